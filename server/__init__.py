"""tally's gRPC server: a thin transport over the SQL functions in sql/."""
