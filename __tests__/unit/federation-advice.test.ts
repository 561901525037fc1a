/**
 * The advice for Entra ID's refusals of an Azure DevOps service connection's ID token: which issuer
 * the token came from, and for each AADSTS code what to change, in that issuer's terms.
 */
import { describe, expect, it } from '@jest/globals'
import { azureDevOpsAdvice, issuerKind, type Presented } from '../../src/auth/federation-advice.js'

const ORG = '0a1b2c3d-0000-4000-8000-00000000000a'
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const CLIENT = '11111111-2222-4333-8444-555555555555'

const azureDevOps: Presented = {
  issuer: `https://vstoken.dev.azure.com/${ORG}`,
  subject: 'sc://contoso/cosmos-cmk/sc-cosmos-cmk',
  audience: 'api://AzureADTokenExchange'
}
const entra: Presented = {
  issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`,
  subject: `/eid1/c/pub/t/x/a/y/sc/${ORG}/c0ffee00-0000-4000-8000-000000000001`,
  audience: 'api://AzureADTokenExchange'
}

describe('issuerKind', () => {
  it.each([
    [`https://vstoken.dev.azure.com/${ORG}`, 'azure-devops'],
    [`https://vstoken.dev.azure.com/${ORG}/`, 'azure-devops'],
    [`HTTPS://VSTOKEN.DEV.AZURE.COM/${ORG.toUpperCase()}`, 'azure-devops'],
    [`https://login.microsoftonline.com/${TENANT}/v2.0`, 'entra'],
    [`https://login.microsoftonline.com/${TENANT}/v2.0/`, 'entra'],
    [`https://login.microsoftonline.us/${TENANT}/v2.0`, 'entra'],
    [`https://login.chinacloudapi.cn/${TENANT}/v2.0`, 'entra'],
    [`https://login.partner.microsoftonline.cn/${TENANT}/v2.0`, 'entra'],
    [`https://token.actions.githubusercontent.com`, 'other'],
    [`https://vstoken.dev.azure.com/contoso`, 'other'],
    [`https://evil.example/https://vstoken.dev.azure.com/${ORG}`, 'other'],
    [`https://vstoken.dev.azure.com/${ORG}/extra`, 'other'],
    [`https://login.microsoftonline.com/${TENANT}`, 'other'],
    [`https://login.microsoftonline.com/${TENANT}/v2.0/extra`, 'other'],
    [`https://login.microsoftonline.de/${TENANT}/v2.0`, 'other'],
    [`http://login.microsoftonline.com/${TENANT}/v2.0`, 'other'],
    ['', 'other'],
    [undefined, 'other']
  ])('%s is %s', (issuer, kind) => {
    expect(issuerKind(issuer)).toBe(kind)
  })
})

const credential = (presented: Presented) =>
  `a federated credential on application ${CLIENT} with issuer '${presented.issuer}', subject ` +
  `'${presented.subject}' and audience '${presented.audience}'`

const SAVE =
  'Edit the service connection and save it (Azure DevOps then updates a federated credential it ' +
  'created itself)'

const ownIssuer =
  "The connection presents Azure DevOps' own issuer; a credential made for the Microsoft Entra " +
  'issuer (https://login.microsoftonline.com/<tenant>/v2.0, the default of connections since ' +
  '2025) does not match it.'
const entraIssuer =
  'The connection presents the Microsoft Entra issuer (connections made or converted since 2025); ' +
  'a credential that still names https://vstoken.dev.azure.com/<organization id> does not match it.'
const namesSubject =
  'The subject names the organization, project and service connection, so renaming any of them ' +
  'changes it.'
const idsSubject =
  'The subject holds the organization id and the service connection id, so a credential made for ' +
  'another connection (or another organization) does not match it.'

describe('azureDevOpsAdvice', () => {
  it('has nothing to say about a token that did not come from Azure DevOps', () => {
    const github = { ...azureDevOps, issuer: 'https://token.actions.githubusercontent.com' }
    expect(azureDevOpsAdvice('AADSTS700213', github, CLIENT)).toBeUndefined()
  })

  it('has nothing to say about a code it does not know', () => {
    expect(azureDevOpsAdvice('AADSTS50034', azureDevOps, CLIENT)).toBeUndefined()
  })

  it.each([
    ['azure-devops', azureDevOps, ownIssuer],
    ['entra', entra, entraIssuer]
  ])('an unknown issuer (AADSTS700211), %s issuer', (_, presented, issuer) => {
    expect(azureDevOpsAdvice('AADSTS700211', presented, CLIENT)).toBe(
      `${issuer} ${SAVE}, or add ${credential(presented)}.`
    )
  })

  it.each([
    ['azure-devops', azureDevOps, namesSubject],
    ['entra', entra, idsSubject]
  ])('an unknown subject (AADSTS700213), %s issuer', (_, presented, subject) => {
    expect(azureDevOpsAdvice('AADSTS700213', presented, CLIENT)).toBe(
      `${subject} ${SAVE}, or add ${credential(presented)} (case-sensitive).`
    )
  })

  it.each([
    ['azure-devops', azureDevOps, namesSubject, ownIssuer],
    ['entra', entra, idsSubject, entraIssuer]
  ])('no credential matches (AADSTS70021), %s issuer', (_, presented, subject, issuer) => {
    expect(azureDevOpsAdvice('AADSTS70021', presented, CLIENT)).toBe(
      `${subject} ${issuer} ${SAVE}, or add ${credential(presented)}.`
    )
  })

  it.each([[azureDevOps], [entra]])('the other codes, whatever the issuer (%#)', presented => {
    const said = (code: string) => azureDevOpsAdvice(code, presented, CLIENT)
    expect(said('AADSTS700212')).toBe(
      "Azure DevOps always presents the audience 'api://AzureADTokenExchange'; set the federated " +
        "credential's audience to exactly that."
    )
    expect(said('AADSTS70025')).toBe(
      `Application ${CLIENT} has no federated credential at all. ${SAVE}, or add ${credential(presented)}.`
    )
    expect(said('AADSTS70052')).toBe(
      'With the Microsoft Entra issuer, the identity of a service connection must be a ' +
        'single-tenant app registration or a managed identity; a multitenant app is refused. Use a ' +
        'single-tenant app registration or a user-assigned managed identity for the connection.'
    )
    expect(said('AADSTS700223')).toBe(
      'Workload identity federation is turned off for this identity or tenant. Ask a tenant ' +
        `administrator to allow federated credentials for issuer '${presented.issuer}'.`
    )
    expect(said('AADSTS700238')).toBe(
      'A tenant policy restricts which issuers a federated credential may trust. Ask a tenant ' +
        `administrator to allow issuer '${presented.issuer}'.`
    )
    expect(said('AADSTS700016')).toBe(
      `Application ${CLIENT} was not found in the tenant: check the service connection's service ` +
        'principal (client) id and tenant id.'
    )
    expect(said('AADSTS700024')).toBe(
      'The ID token was outside its validity period (Azure DevOps issues tokens for about 5-10 ' +
        'minutes); re-run the job, and check the agent\u2019s clock.'
    )
  })
})
