"""The AWS shape: DynamoDB, S3, Step Functions, SQS and a SageMaker async endpoint behind the
same ports as the local adapters. The only package of faceport that imports boto3."""
