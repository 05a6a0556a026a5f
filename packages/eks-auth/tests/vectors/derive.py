"""Derives the known-answer vectors in vectors.json with botocore, the library behind
`aws eks get-token`, independently of our TypeScript signer.

It follows awscli/customizations/eks/get_token.py: an STS client for the regional
endpoint, the cluster name moved from the call's parameters into the `x-k8s-aws-id`
header before signing, generate_presigned_url('get_caller_identity', ExpiresIn=60,
HttpMethod='GET'), and `k8s-aws-v1.` + urlsafe base64 without padding. The clock is
frozen with freezegun. Run with a Python that has botocore and freezegun:

    python derive.py > vectors.json
"""

import base64
import json

import botocore.session
from botocore.config import Config
from freezegun import freeze_time

HEADER = "x-k8s-aws-id"

CASES = [
    {"name": "aws, long-term keys", "region": "us-east-1", "clusterName": "ci",
     "signingDate": "2026-11-28T10:01:14Z", "sessionToken": None},
    {"name": "aws, session token", "region": "eu-west-1", "clusterName": "build-cluster_01",
     "signingDate": "2026-01-02T03:04:05Z",
     "sessionToken": "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+test/token=="},
    {"name": "aws-cn", "region": "cn-north-1", "clusterName": "buildkite",
     "signingDate": "2026-06-30T23:59:59Z", "sessionToken": None},
    {"name": "aws-us-gov, session token", "region": "us-gov-west-1", "clusterName": "gov-ci",
     "signingDate": "2027-02-28T12:00:00Z", "sessionToken": "FwoGZXIvYXdzEBYaDH+gov/session=="},
]

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def token_for(case):
    session = botocore.session.get_session()
    session.set_credentials(ACCESS_KEY, SECRET_KEY, case["sessionToken"])
    sts = session.create_client(
        "sts",
        region_name=case["region"],
        config=Config(signature_version="v4"),
        endpoint_url=None,
    )
    # As awscli does: regional endpoint, and the cluster name as a signed header.
    sts.meta.config.sts_regional_endpoints = "regional"

    def retrieve(params, context, **kwargs):
        if HEADER in params:
            context[HEADER] = params.pop(HEADER)

    def inject(request, **kwargs):
        if HEADER in request.context:
            request.headers[HEADER] = request.context[HEADER]

    sts.meta.events.register("provide-client-params.sts.GetCallerIdentity", retrieve)
    sts.meta.events.register("before-sign.sts.GetCallerIdentity", inject)
    with freeze_time(case["signingDate"]):
        url = sts.generate_presigned_url(
            "get_caller_identity",
            Params={HEADER: case["clusterName"]},
            ExpiresIn=60,
            HttpMethod="GET",
        )
    token = "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    return url, token


vectors = []
for case in CASES:
    url, token = token_for(case)
    vectors.append({**case, "accessKeyId": ACCESS_KEY, "secretAccessKey": SECRET_KEY,
                    "url": url, "token": token})
print(json.dumps({"derivedWith": "botocore " + botocore.__version__, "vectors": vectors}, indent=2))
