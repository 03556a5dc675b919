"""Accounts, sessions, passwords, tokens and rate limits (issue #5); web-independent."""
