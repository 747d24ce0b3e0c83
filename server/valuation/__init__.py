"""Inventory valuation: the FIFO and moving-average engine (engine), the ledger rows it is fed
(ledger), the company settings choosing the method (company) and the reports read from them
(service, routes: `/v1/company`, `/v1/valuation`, `/v1/valuation/{sku}/cogs`)."""
