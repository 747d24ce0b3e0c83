"""Reports derived from the ledger: sell-through, KPIs (reorder alerts: server.reorder)."""
