"""Reports and alerts derived from the ledger: reorder alerts, sell-through."""
