"""Accounting output: journals derived from valuation effects (Beancount)."""
