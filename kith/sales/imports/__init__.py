"""Importers of transaction files into sales records (customers, products, consumption lines)."""
