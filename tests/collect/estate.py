"""A small AWS organization built in the moto server with boto3: what the collector tests read back.

Management account (moto's default account): an organization with an OU, an SCP denying bucket
deletion on the OU, an RCP; users, a group, roles, a customer managed policy, and in eu-west-1 one
resource of every kind the collector reads. Member account ("prod", in the OU): an admin role reached
from the management account, a user and a bucket.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import boto3

MGMT = "123456789012"  # moto's default account
OUTSIDER = "444455556666"
REGION = "eu-west-1"
EAST = "us-east-1"
SECRET_VALUE = "s3cr3t-value-that-must-never-be-collected"
ACCESS_SECRET = "fake-secret-access-key-never-logged"


@dataclass(frozen=True)
class Estate:
    url: str
    member: str
    org_id: str
    function_arn: str
    key_arn: str
    queue_arn: str
    instance_arn: str

    def arn(self, kind: str, name: str, account: str = MGMT) -> str:
        return f"arn:aws:iam::{account}:{kind}/{name}"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _trust(service: str | list[str]) -> str:
    return _doc({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


def build_estate(url: str) -> Estate:
    session = boto3.Session(aws_access_key_id="AKIAESTATEBUILDER", aws_secret_access_key="builder",
                            region_name=REGION)  # fmt: skip

    def client(service: str, region: str = REGION, s: boto3.Session = session) -> Any:
        return s.client(service, endpoint_url=url, region_name=region)

    member, org_id = _organization(client("organizations", EAST))
    _management_iam(client("iam", EAST), member)
    found = _management_resources(client)
    credentials = client("sts", EAST).assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", RoleSessionName="estate-builder"
    )["Credentials"]
    member_session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"], region_name=REGION,
    )  # fmt: skip
    _member(member_session.client("iam", endpoint_url=url, region_name=EAST),
            member_session.client("s3", endpoint_url=url, region_name=REGION))  # fmt: skip
    return Estate(url=url, member=member, org_id=org_id, **found)


def _organization(org: Any) -> tuple[str, str]:
    org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = org.list_roots()["Roots"][0]["Id"]
    for policy_type in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
        org.enable_policy_type(RootId=root, PolicyType=policy_type)
    unit = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]["Id"]
    member = org.create_account(Email="prod@example.com", AccountName="prod")["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=unit)
    scp = org.create_policy(
        Name="DenyBucketDeletion", Type="SERVICE_CONTROL_POLICY", Description="no bucket deletion",
        Content=_doc({"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}),
    )["Policy"]["PolicySummary"]["Id"]  # fmt: skip
    org.attach_policy(PolicyId=scp, TargetId=unit)
    rcp = org.create_policy(
        Name="SecretsStayInOrg", Type="RESOURCE_CONTROL_POLICY", Description="secrets only for the org",
        Content=_doc({"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:GetSecretValue",
                      "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": org_id}}}),
    )["Policy"]["PolicySummary"]["Id"]  # fmt: skip
    org.attach_policy(PolicyId=rcp, TargetId=root)
    return member, org_id


def _management_iam(iam: Any, member: str) -> None:
    iam.create_group(GroupName="readers")
    iam.put_group_policy(GroupName="readers", PolicyName="read-reports", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::mgmt-reports/*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::mgmt-reports"},
    ))  # fmt: skip
    for user in ("alice", "bob", "ops"):
        iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName="readers", UserName="alice")
    assume = iam.create_policy(PolicyName="AssumeProdAdmin", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole",
         "Resource": f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole"},
    ))["Policy"]["Arn"]  # fmt: skip
    iam.attach_user_policy(UserName="bob", PolicyArn=assume)
    iam.put_user_policy(UserName="ops", PolicyName="sessions", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "ssm:StartSession", "Resource": "*"},
    ))  # fmt: skip
    iam.create_role(
        RoleName="reporter-role", Path="/service-role/", AssumeRolePolicyDocument=_trust("lambda.amazonaws.com")
    )
    iam.put_role_policy(RoleName="reporter-role", PolicyName="read", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": ["arn:aws:s3:::mgmt-reports", "arn:aws:s3:::mgmt-reports/*"]},
    ))  # fmt: skip
    iam.create_role(RoleName="ec2-role", Path="/ec2/", AssumeRolePolicyDocument=_trust("ec2.amazonaws.com"))
    iam.create_instance_profile(InstanceProfileName="ops-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="ops-profile", RoleName="ec2-role")
    services = ["cloudformation.amazonaws.com", "codebuild.amazonaws.com", "glue.amazonaws.com",
                "sagemaker.amazonaws.com"]  # fmt: skip
    iam.create_role(RoleName="deploy-role", Path="/service-role/", AssumeRolePolicyDocument=_trust(services))
    root_trust = _doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MGMT}:root"}, "Action": "sts:AssumeRole"}
    )
    iam.create_role(RoleName="key-user", AssumeRolePolicyDocument=root_trust)
    iam.create_account_alias(AccountAlias="acme-mgmt")
    iam.update_account_password_policy(MinimumPasswordLength=14, RequireSymbols=True)
    iam.create_open_id_connect_provider(Url="https://token.actions.githubusercontent.com",
                                        ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40])  # fmt: skip


def _management_resources(client: Any) -> dict[str, str]:
    role = f"arn:aws:iam::{MGMT}:role/"
    s3 = client("s3")
    s3.create_bucket(Bucket="mgmt-reports", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_policy(Bucket="mgmt-reports", Policy=_doc(
        {"Sid": "PartnerRead", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OUTSIDER}:root"},
         "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": ["arn:aws:s3:::mgmt-reports", "arn:aws:s3:::mgmt-reports/*"]},
    ))  # fmt: skip
    s3.put_public_access_block(Bucket="mgmt-reports", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
    })  # fmt: skip
    s3.put_bucket_tagging(Bucket="mgmt-reports", Tagging={"TagSet": [{"Key": "team", "Value": "finance"}]})
    client("s3", EAST).create_bucket(Bucket="mgmt-east-logs")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handle(event, context):\n    return 1\n")
    lam = client("lambda")
    function_arn = lam.create_function(
        FunctionName="reporter", Runtime="python3.12", Role=role + "service-role/reporter-role",
        Handler="handler.handle", Code={"ZipFile": code.getvalue()}, Tags={"app": "reports"},
    )["FunctionArn"]  # fmt: skip
    lam.add_permission(FunctionName="reporter", StatementId="partner", Action="lambda:InvokeFunction",
                       Principal=f"arn:aws:iam::{OUTSIDER}:root")  # fmt: skip
    kms = client("kms")
    key_arn = kms.create_key(Policy=_doc(
        {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MGMT}:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": role + "key-user"}, "Action": "kms:Decrypt",
         "Resource": "*"},
    ), Tags=[{"TagKey": "team", "TagValue": "payments"}])["KeyMetadata"]["Arn"]  # fmt: skip
    kms.create_alias(AliasName="alias/payments", TargetKeyId=key_arn)
    sqs = client("sqs")
    queue = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{REGION}:{MGMT}:jobs"
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": _doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OUTSIDER}:root"}, "Action": "sqs:SendMessage",
         "Resource": queue_arn},
    )})  # fmt: skip
    client("sns").create_topic(Name="alerts")
    secrets = client("secretsmanager")
    secrets.create_secret(Name="db-password", SecretString=SECRET_VALUE)
    secrets.put_resource_policy(SecretId="db-password", ResourcePolicy=_doc(
        {"Effect": "Allow", "Principal": {"AWS": role + "key-user"}, "Action": "secretsmanager:GetSecretValue",
         "Resource": "*"},
    ))  # fmt: skip
    ecr = client("ecr")
    ecr.create_repository(repositoryName="app")
    ecr.set_repository_policy(repositoryName="app", policyText=_doc(
        {"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OUTSIDER}:root"},
         "Action": "ecr:BatchGetImage"},
    ))  # fmt: skip
    ec2 = client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, IamInstanceProfile={"Name": "ops-profile"},
                                 TagSpecifications=[{"ResourceType": "instance",
                                                     "Tags": [{"Key": "Name", "Value": "ops-runner"}]}],
                                 )["Instances"][0]["InstanceId"]  # fmt: skip
    deploy = role + "service-role/deploy-role"
    client("cloudformation").create_stack(
        StackName="infra", TemplateBody=json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}),
        RoleARN=deploy,
    )  # fmt: skip
    client("codebuild").create_project(
        name="build", source={"type": "S3", "location": "mgmt-reports/src.zip"}, artifacts={"type": "NO_ARTIFACTS"},
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                     "computeType": "BUILD_GENERAL1_SMALL"},
        serviceRole=deploy,
    )  # fmt: skip
    client("glue").create_dev_endpoint(EndpointName="dev", RoleArn=deploy)
    client("sagemaker").create_notebook_instance(NotebookInstanceName="nb", InstanceType="ml.t2.medium",
                                                 RoleArn=deploy)  # fmt: skip
    return {
        "function_arn": function_arn,
        "key_arn": key_arn,
        "queue_arn": queue_arn,
        "instance_arn": f"arn:aws:ec2:{REGION}:{MGMT}:instance/{instance}",
    }


def _member(iam: Any, s3: Any) -> None:
    admin = iam.create_policy(PolicyName="Admin", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
    ))["Policy"]["Arn"]  # fmt: skip
    iam.attach_role_policy(RoleName="OrganizationAccountAccessRole", PolicyArn=admin)
    iam.create_user(UserName="carol")
    iam.put_user_policy(UserName="carol", PolicyName="data", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::prod-data", "arn:aws:s3:::prod-data/*"]},
    ))  # fmt: skip
    s3.create_bucket(Bucket="prod-data", CreateBucketConfiguration={"LocationConstraint": REGION})
