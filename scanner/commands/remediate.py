"""``leakstop remediate [PATH]``: move hardcoded secrets into AWS Secrets Manager (or SSM),
replace them with run-time lookups, flag them for rotation. Dry run unless --apply."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scanner.commands.common import engine_option, writable
from scanner.remediate.settings import K8S_OUTPUTS, LAMBDA_ENV
from scanner.remediate.stores import STORES


@click.command()
@click.argument("path", default=".")
@click.option("--project", required=True, help="Project name: the {project} part of secret names.")
@click.option("--env", "env", required=True, help="Environment (prod, staging...): the {env} part of secret names.")
@click.option("--from-report", type=click.Path(dir_okay=False, path_type=Path),
              help="Use the findings of a leakstop JSON report instead of scanning (values are re-read and verified).")
@click.option("--apply", "do_apply", is_flag=True, help="Store the secrets and rewrite the files (default: dry run).")
@click.option("--backend", type=click.Choice(sorted(STORES)), default=None,
              help="Where values go: secretsmanager (JSON secrets, default) or ssm (SecureString parameters).")
@click.option("--region", default=None, help="AWS region (default: the standard AWS configuration).")
@click.option("--kms-key-id", default=None, help="Customer-managed KMS key for new secrets.")
@click.option("--overwrite", is_flag=True, help="Replace a different value already stored under the same name/key.")
@click.option("--rotation-lambda-arn", default=None, help="Turn on scheduled rotation with this Lambda (RotateSecret).")
@click.option("--rotate-after-days", type=int, default=None, help="Rotation interval with --rotation-lambda-arn (default 30).")
@click.option("--owner", default=None, help="The owner tag of stored secrets (a team or an e-mail).")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Another tag for stored secrets (repeatable; "
              "app and env default to --project and --env).")
@click.option("--read-role", "read_roles", multiple=True, metavar="ROLE_ARN",
              help="Put a resource policy on each secret: only these roles (and you) may read it; deletion is "
                   "denied (repeatable).")
@click.option("--lambda-env", type=click.Choice(LAMBDA_ENV), default=None,
              help="A Lambda function's environment value in CloudFormation/SAM: read at run time through the AWS "
                   "Parameters and Secrets Lambda Extension (default), or a dynamic reference resolved at deploy.")
@click.option("--kubernetes", "k8s", type=click.Choice(K8S_OUTPUTS), default=None,
              help="What Kubernetes manifests get: an ExternalSecret (External Secrets Operator, default) or a "
                   "SecretProviderClass (Secrets Store CSI driver, AWS provider).")
@click.option("--emit", nargs=2, type=(click.Choice(["terraform", "cloudformation"]), click.Path(file_okay=False)),
              default=None, metavar="terraform|cloudformation DIR",
              help="Write the secrets, a KMS key, tags and policies as code into DIR (no value); deploy it, "
                   "then --apply puts only the values.")
@click.option("--output-dir", default=None, help="Where rotation-plan.*, iam-policy.json and the journal go "
              "(default: leakstop-remediation/ under PATH).")
@click.option("--save-plan", type=click.Path(dir_okay=False, path_type=Path), callback=writable, help="Save the plan (no values) as JSON.")
@click.option("--plan", "reviewed_plan", type=click.Path(dir_okay=False, path_type=Path),
              help="With --apply: refuse if any file changed since this saved plan.")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Dry-run plan format.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Configuration file.")
@engine_option
def remediate(path, project, env, from_report, do_apply, backend, region, kms_key_id, overwrite, rotation_lambda_arn,
              rotate_after_days, owner, tags, read_roles, lambda_env, k8s, emit, output_dir, save_plan, reviewed_plan, fmt, config_path,
              engine) -> int:
    """Move each hardcoded secret into AWS and replace it with a run-time lookup."""
    import os

    from scanner.config import load_config
    from scanner.errors import LeakstopError
    from scanner.remediate.aws import resolve_region
    from scanner.remediate.runner import Request, run
    from scanner.remediate.settings import check_roles, check_tags, load_settings

    if not os.path.isdir(path):
        raise LeakstopError(f"{path}: not a directory")
    if emit and do_apply:
        raise LeakstopError("--emit writes code and changes nothing: deploy it, then run --apply without --emit")
    config = load_config(config_path, Path(path)).with_options(backend=engine)
    settings = load_settings(config, project, env, backend=backend, region=region, kms_key_id=kms_key_id,
                             overwrite=overwrite, rotation_lambda_arn=rotation_lambda_arn,
                             rotate_after_days=rotate_after_days, output_dir=output_dir, owner=owner,
                             lambda_env=lambda_env, kubernetes=k8s,
                             tags=check_tags(dict(_pair(t) for t in tags), "--tag") if tags else None,
                             read_roles=check_roles(list(read_roles), "--read-role") if read_roles else None)
    from dataclasses import replace

    out_dir = settings.output_dir if os.path.isabs(settings.output_dir) else os.path.normpath(
        os.path.join(path, settings.output_dir))
    settings = replace(settings, region=resolve_region(settings.region), output_dir=out_dir)
    from scanner.identity import resolve_identity

    req = Request(path=path, settings=settings, config=config, from_report=from_report, apply=do_apply, fmt=fmt,
                  save_plan=save_plan, reviewed_plan=reviewed_plan, emit=(emit[0], Path(emit[1])) if emit else None,
                  identity=resolve_identity(config, Path(path)))
    outcome = run(req, sys.stdout)
    return 1 if outcome.incomplete else 0


def _pair(text: str) -> tuple[str, str]:
    from scanner.errors import LeakstopError

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise LeakstopError(f"--tag {text!r}: expected KEY=VALUE")
    return key, value
