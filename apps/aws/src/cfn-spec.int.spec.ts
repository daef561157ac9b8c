import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTemplateAgainstSpec, type CfnTemplate } from '../test/cfn-spec-check';
import { DEPLOY_MODES } from '../test/deploy-modes';
import { packageService } from '../test/package-service';

jest.setTimeout(300_000);

// Every deploy mode the README documents, packaged offline and checked against the CloudFormation resource
// specification AWS maintains: what CloudFormation would reject at deploy time fails here first.
describe('the packaged templates against the CloudFormation resource specification', () => {
  const out = mkdtempSync(join(tmpdir(), 'sls-spec-'));
  const templates = new Map<string, CfnTemplate>();
  beforeAll(() => {
    for (const mode of DEPLOY_MODES) templates.set(mode.name, packageService(join(out, mode.name), mode.args) as CfnTemplate);
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.each(DEPLOY_MODES.map((mode) => mode.name))(
    '%s: every resource type, property, required property, attribute and reference is one the specification knows',
    (name) => {
      expect(checkTemplateAgainstSpec(templates.get(name) as CfnTemplate)).toEqual([]);
    },
  );

  it("the trial stage's public sandbox URL grants both permissions a function URL needs (lambda:InvokeFunctionUrl, and lambda:InvokeFunction via the URL)", () => {
    const permissions = Object.values((templates.get('trial') as CfnTemplate).Resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Permission')
      .map((resource) => resource.Properties);
    const sandbox = { 'Fn::GetAtt': ['PlutusSandboxLambdaFunction', 'Arn'] };
    expect(permissions).toContainEqual({
      FunctionName: sandbox,
      Action: 'lambda:InvokeFunctionUrl',
      Principal: '*',
      FunctionUrlAuthType: 'NONE',
    });
    expect(permissions).toContainEqual({
      FunctionName: sandbox,
      Action: 'lambda:InvokeFunction',
      Principal: '*',
      InvokedViaFunctionUrl: true,
    });
  });

  it('the README documents every mode checked here (each --param a mode sets appears in it)', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    for (const mode of DEPLOY_MODES) {
      for (const arg of mode.args.filter((value) => value.startsWith('--param='))) {
        expect([mode.name, readme.includes(`\`${arg.slice('--param='.length).split('=')[0]}`)]).toEqual([mode.name, true]);
      }
    }
  });
});

describe('the specification check', () => {
  const template = (resources: CfnTemplate['Resources'], outputs?: CfnTemplate['Outputs']): CfnTemplate => ({
    Resources: resources,
    Outputs: outputs,
  });
  const namespace = { Type: 'AWS::RedshiftServerless::Namespace', Properties: { NamespaceName: 'rewards-prod' } };

  it('finds an attribute CloudFormation does not return (Namespace.AdminPasswordSecretArn), in properties and in Fn::Sub', () => {
    const problems = checkTemplateAgainstSpec(
      template(
        {
          RedshiftNamespace: namespace,
          Fn: {
            Type: 'AWS::Lambda::Function',
            Properties: {
              Role: 'r',
              Code: {},
              Environment: { Variables: { SECRET: { 'Fn::GetAtt': ['RedshiftNamespace', 'Namespace.AdminPasswordSecretArn'] } } },
            },
          },
        },
        { Out: { Value: { 'Fn::Sub': '${RedshiftNamespace.Namespace.AdminPasswordSecretArn}' } } },
      ),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^Resources\.Fn\.Properties\.Environment\.Variables\.SECRET: AWS::RedshiftServerless::Namespace has no attribute Namespace\.AdminPasswordSecretArn/,
      ),
      expect.stringMatching(/^Outputs\.Out\.Value: AWS::RedshiftServerless::Namespace has no attribute Namespace\.AdminPasswordSecretArn/),
    ]);
    expect(
      checkTemplateAgainstSpec(
        template({ RedshiftNamespace: namespace }, { Out: { Value: { 'Fn::GetAtt': ['RedshiftNamespace', 'Namespace.NamespaceArn'] } } }),
      ),
    ).toEqual([]);
  });

  it('finds unknown types, unknown or missing properties, wrong types deep inside, and dangling references', () => {
    const problems = checkTemplateAgainstSpec(
      template({
        Bad: { Type: 'AWS::Nope::Thing', Properties: {} },
        Bucket: {
          Type: 'AWS::S3::Bucket',
          DependsOn: 'Ghost',
          Properties: {
            BucketNmae: 'x',
            VersioningConfiguration: {},
            LifecycleConfiguration: { Rules: [{ Status: 'Enabled', ExpirationInDays: 'ninety', Prefix: { Ref: 'Missing' } }] },
          },
        },
        Topic: {
          Type: 'AWS::SNS::Topic',
          Properties: { KmsMasterKeyId: { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${Nowhere}:key/${!Literal}' } },
        },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'Resources.Bad: AWS::Nope::Thing is not a CloudFormation resource type',
        expect.stringMatching(/^Resources\.Bucket\.Properties\.BucketNmae: not a property here/),
        'Resources.Bucket.Properties.VersioningConfiguration.Status: required, missing',
        'Resources.Bucket.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays: expected a integer, got a string',
        'Resources.Bucket.DependsOn: no resource Ghost',
        'Resources.Bucket.Properties.LifecycleConfiguration.Rules[0].Prefix: Ref to Missing, which is no resource, parameter or pseudo parameter',
        'Resources.Topic.Properties.KmsMasterKeyId: Ref to Nowhere, which is no resource, parameter or pseudo parameter',
      ]),
    );
    expect(problems).toHaveLength(7);
  });
});
