"""The shop's message interface: an AMQP bridge beside the gRPC server.

`python -m server.amqp` consumes the original's queues `product`, `product_update`,
`order` and `order_update`, calls the shop's RPC handlers with each message's request
(so every rule stays where the RPCs keep it: the SQL functions), and publishes the report
outbox to the queue `report`. server.amqp.bridge is a composition root, as server.app is:
the only other module that imports a domain.
"""
