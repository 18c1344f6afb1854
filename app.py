"""CDK entry point: `make synth` (or `cdk synth`) builds the CloudFormation template offline."""

from __future__ import annotations

import aws_cdk as cdk

from infra.stack import FaceportStack


def main() -> None:
    app = cdk.App()
    FaceportStack(app, "Faceport")
    app.synth()


if __name__ == "__main__":
    main()
