"""Barcodes: what a scanned code means (biip does the GS1 parsing) and which SKU it is."""
