"""External providers in the stack (faceport/providers/): FACEPORT_PROVIDERS and
FACEPORT_ROUTES from CDK context (`-c faceport:providers='{...}' -c faceport:routes=...`,
the same JSON objects as the local settings), each key only by its Secrets Manager name
(`api_key_secret`: never a plain value in a Lambda's environment), and the grants."""

from __future__ import annotations

import json

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from faceport.settings import Settings


def validated(providers: str, routes: str) -> Settings:
    """The two context values as the Lambdas will read them; refused at synth when
    invalid or when a key is given in plain."""
    settings = Settings.model_validate(
        {"providers": json.loads(providers or "{}"), "routes": json.loads(routes or "{}")}
    )
    plain = [name for name, config in settings.providers.items() if config.api_key is not None]
    if plain:
        raise ValueError(f"providers {plain}: on AWS give api_key_secret, not api_key")
    return settings


class Providers(Construct):
    """Wires the configured providers into the Lambdas that talk to them: the workflow
    (submit, poll, callback URLs under the API's URL) and the API (cancel at a provider)."""

    def __init__(self, scope: Construct, construct_id: str, *, providers: str, routes: str) -> None:
        super().__init__(scope, construct_id)
        self.settings = validated(providers, routes)
        self.environment = {
            "FACEPORT_PROVIDERS": json.dumps(
                {n: c.model_dump(exclude_unset=True) for n, c in self.settings.providers.items()}
            ),
            "FACEPORT_ROUTES": json.dumps(self.settings.routes),
        }
        self._secrets = [
            secretsmanager.Secret.from_secret_name_v2(self, f"Key{n}", config.api_key_secret)
            for n, config in enumerate(self.settings.providers.values())
            if config.api_key_secret is not None
        ]

    def wire(
        self,
        *,
        api: lambda_.Function,
        workflow: lambda_.Function,
        state_machine_arn: str,
        api_url: str,
    ) -> None:
        if not self.settings.providers:
            return  # nothing to wire: the stack is as without providers
        # The callback route (the API Lambda) completes the AwaitCallback step it wakes.
        iam.Grant.add_to_principal(
            grantee=api, actions=["states:SendTaskSuccess"], resource_arns=[state_machine_arn]
        )
        for function in (api, workflow):
            for name, value in self.environment.items():
                function.add_environment(name, value)
            for secret in self._secrets:
                secret.grant_read(function)
        # Where providers call back: the API's own URL (faceport.workflow.callback_url;
        # Settings.base_url drops its trailing slash).
        workflow.add_environment("FACEPORT_PUBLIC_URL", api_url)
