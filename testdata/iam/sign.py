#!/usr/bin/env python3
"""Signs MSK IAM OAUTHBEARER tokens with the official AWS signer (PyPI
aws-msk-iam-sasl-signer-python) under a frozen clock, for the cross-check in
crates/kquota-iam/tests/python_signer.rs.

stdin:  JSON list of {region, access_key_id, secret_access_key, session_token|null,
        signing_time_epoch_s, user_agent}
stdout: JSON list of {token, expiry_ms, signer_version}

The signer's public generate_auth_token_from_credentials_provider() is called as is; only two
things are patched: botocore's clock (botocore.auth.get_current_datetime) and the library's
User-Agent function, so that the caller picks the signing time and the User-Agent.
"""
import datetime
import importlib.metadata
import json
import sys

import botocore.auth
from botocore.credentials import CredentialProvider, Credentials
from aws_msk_iam_sasl_signer import MSKAuthTokenProvider as signer


class FixedProvider(CredentialProvider):
    METHOD = "kquota-crosscheck"

    def __init__(self, creds):
        super().__init__()
        self._creds = creds

    def load(self):
        return self._creds


def main():
    inputs = json.load(sys.stdin)
    version = importlib.metadata.version("aws-msk-iam-sasl-signer-python")
    out = []
    for i in inputs:
        t = datetime.datetime.fromtimestamp(i["signing_time_epoch_s"], tz=datetime.timezone.utc)
        frozen = t.replace(tzinfo=None)
        botocore.auth.get_current_datetime = lambda frozen=frozen: frozen
        ua = i["user_agent"]
        signer.__get_user_agent__ = lambda ua=ua: ua
        creds = Credentials(i["access_key_id"], i["secret_access_key"], i.get("session_token"))
        token, expiry_ms = signer.generate_auth_token_from_credentials_provider(
            i["region"], FixedProvider(creds))
        out.append({"token": token, "expiry_ms": expiry_ms, "signer_version": version})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
