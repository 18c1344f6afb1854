"""botocore's setup errors (no region, no credentials, a refused call) as one line that
says the fix, for `faceport admin --stack` (botocore is imported only in this package)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from faceport.errors import AwsSetupError


@contextmanager
def aws_errors_explained() -> Iterator[None]:
    """botocore's errors as one line with the fix, instead of a traceback."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        NoRegionError,
    )

    try:
        yield
    except NoRegionError:
        raise AwsSetupError(
            "No AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or give your AWS "
            "profile a region (`aws configure set region eu-west-1`)."
        ) from None
    except NoCredentialsError:
        raise AwsSetupError(
            "No AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise AwsSetupError(f"AWS said {error.get('Code')}: {error.get('Message')}") from None
    except BotoCoreError as exc:
        raise AwsSetupError(f"AWS: {exc}") from None
