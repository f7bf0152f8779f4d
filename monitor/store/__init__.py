"""The database: engine and sessions, tables, migrations, the leader lease."""
