"""One module per domain: handlers that call its SQL. Only server.app imports these."""
