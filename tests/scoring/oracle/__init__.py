"""An independent pandas implementation of every score, which the tests compare the one
implementation (the SQL of ``audience_dagster/scoring/sql.py``) against."""
