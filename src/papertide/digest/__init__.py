"""Email digests (issue #6): subscriptions, editions, rendering and sending."""
