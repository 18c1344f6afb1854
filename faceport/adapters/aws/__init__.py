"""The AWS shape's adapters: the only place boto3 appears. Clients are injectable (tests
pass moto's) and otherwise made on first use, never at import time."""
