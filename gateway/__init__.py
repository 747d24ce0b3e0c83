"""The site gateway: MQTT and dock-reader intake, a durable SQLite buffer, acks, forwarding."""
