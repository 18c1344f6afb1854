"""What a task costs on AWS: every list price and every assumption in this one file
(`make cost` measures engine time on this machine and prints the table).

Prices: AWS list prices, us-east-1, on-demand, as published when this was written; check
the pricing pages before relying on a figure. The model per task of one operation at L
tasks per hour:

- API Gateway REST: the submit and the status polls; Lambda: requests and GB-seconds of
  every invocation a task makes (authorizer, submit, polls, the workflow steps, the
  engine callback, the stream Lambda); Step Functions Standard: state transitions.
- DynamoDB on-demand: write and read request units per task (task item writes, the
  ledger's transactions, idempotency and rate counters; reads of polls and steps).
- S3: PUT/GET requests and storage for the retention of inputs (1 day) and results (7).
- SageMaker async: instance-seconds. When tasks are farther apart than the idle tail
  (scale-in cooldown plus the alarm's evaluation before scale-to-zero), every task pays
  its engine time plus a cold start plus the whole idle tail; otherwise the instances stay
  up and the hour's instance time is shared by the hour's tasks.
- Data transfer out: the result downloaded once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# --- list prices (USD) -------------------------------------------------------------------
API_GATEWAY_REST_PER_REQUEST = 3.50 / 1e6
LAMBDA_PER_REQUEST = 0.20 / 1e6
LAMBDA_PER_GB_S = 0.0000166667  # x86
STEP_FUNCTIONS_PER_TRANSITION = 0.025 / 1000  # Standard workflows
DYNAMODB_PER_WRITE_UNIT = 0.625 / 1e6  # on-demand
DYNAMODB_PER_READ_UNIT = 0.125 / 1e6
S3_PER_PUT = 0.005 / 1000
S3_PER_GET = 0.0004 / 1000
S3_PER_GB_MONTH = 0.023
TRANSFER_OUT_PER_GB = 0.09
SAGEMAKER_PER_HOUR = {  # real-time/async hosting instances
    "ml.c5.xlarge": 0.204,
    "ml.g4dn.xlarge": 0.736,
    "ml.g5.xlarge": 1.408,
}
DEFAULT_INSTANCE = "ml.c5.xlarge"  # infra/stack.py FaceportConfig.engine_instance_type
# The seeds' hosted prices, per image swap.
HOSTED = {"API in One": 0.04, "WaveSpeed": 0.01}

# --- assumptions -------------------------------------------------------------------------
STATUS_POLLS = 2  # GETs a client makes per task (besides the submit)
IDLE_TAIL_S = 10 * 60 + 5 * 60  # scale-in cooldown + the low-backlog alarm's periods
COLD_START_S = 5 * 60  # an instance launched from zero until it serves
# Per task: (invocations, GB, seconds each) of the Lambdas besides the engine.
LAMBDA_CALLS = (
    (1 + STATUS_POLLS, 0.25, 0.005),  # authorizer, once per request
    (1, 1.0, 0.15),  # submit (decode, check, store inputs, hold, start)
    (STATUS_POLLS, 0.5, 0.02),  # status
    (4, 1.0, 0.1),  # workflow steps: prepare, dispatch, collect, finalize
    (1, 0.5, 0.05),  # engine callback
    (1, 0.25, 0.05),  # task stream (a batch per task at worst)
)
STATE_TRANSITIONS = 8  # Start, Prepare, StillWanted, Dispatch, Collect, Finalize, Done, end
DYNAMODB_WRITES = 16  # create, running, progress, token, ends; ledger txns (2 items x 2)
DYNAMODB_READS = 12
S3_PUTS, S3_GETS = 4, 4  # inputs, engine request/output, result; reads of the same
GB_MONTH_PER_DAY = 1 / 30


@dataclass(frozen=True)
class Workload:
    """One operation's sizes and the engine time measured for it on this machine."""

    name: str
    engine_s: float
    input_mb: float
    result_mb: float
    progress_writes: int = 0  # a video writes its progress onto the task as it goes


def engine_cost(engine_s: float, per_hour_tasks: float, instance: str) -> float:
    """SageMaker instance dollars per task (see the module docstring)."""
    price_s = SAGEMAKER_PER_HOUR[instance] / 3600
    gap_s = 3600 / per_hour_tasks
    if gap_s > IDLE_TAIL_S + engine_s:
        return (engine_s + COLD_START_S + IDLE_TAIL_S) * price_s
    instances = max(1, math.ceil(per_hour_tasks * engine_s / 3600))
    return instances * 3600 * price_s / per_hour_tasks


def fixed_cost(work: Workload) -> float:
    """Dollars per task of everything but the engine instance."""
    lambdas = sum(n * (LAMBDA_PER_REQUEST + gb * s * LAMBDA_PER_GB_S) for n, gb, s in LAMBDA_CALLS)
    api = (1 + STATUS_POLLS) * API_GATEWAY_REST_PER_REQUEST
    steps = STATE_TRANSITIONS * STEP_FUNCTIONS_PER_TRANSITION
    dynamo = (DYNAMODB_WRITES + work.progress_writes) * DYNAMODB_PER_WRITE_UNIT
    dynamo += DYNAMODB_READS * DYNAMODB_PER_READ_UNIT
    s3 = S3_PUTS * S3_PER_PUT + S3_GETS * S3_PER_GET
    gb_days = (work.input_mb * 1 + work.result_mb * 7) / 1024
    storage = gb_days * GB_MONTH_PER_DAY * S3_PER_GB_MONTH
    transfer = work.result_mb / 1024 * TRANSFER_OUT_PER_GB
    return lambdas + api + steps + dynamo + s3 + storage + transfer


def cost_per_task(work: Workload, per_hour_tasks: float, instance: str = DEFAULT_INSTANCE) -> float:
    return fixed_cost(work) + engine_cost(work.engine_s, per_hour_tasks, instance)
