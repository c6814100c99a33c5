"""The durable records (SQLAlchemy 2.0 typed models), written by activities and read by the API;
the queries both apply (mail limits, ownership rules, credit balances); the migrations."""
