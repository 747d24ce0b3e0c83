"""The ledger: catalog, locations, movements, balances, ingest and channel pushes."""
