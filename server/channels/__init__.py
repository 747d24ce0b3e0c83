"""Sales channels: the transactional outbox and the dispatcher that pushes signed stock levels."""
