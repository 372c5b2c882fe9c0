"""The runtime every Brobygger service stands on.

Settings, database, inbox and outbox, the Kafka delivery policy, health,
metrics and logging live here once; a service brings its domain, its tables,
its handlers and its HTTP routes.
"""
