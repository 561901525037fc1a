/**
 * What to do about Microsoft Entra ID's refusals of an Azure DevOps service connection's ID token.
 * Azure DevOps signs with one of two issuers: its own (`https://vstoken.dev.azure.com/<org id>`,
 * subject `sc://<org>/<project>/<connection>`, names that a rename changes) or, for connections
 * made or converted since 2025, Entra ID's (`https://login.microsoftonline.com/<tenant>/v2.0`,
 * subject `.../sc/<org id>/<connection id>`).
 */
export type IssuerKind = 'azure-devops' | 'entra' | 'other'

const azureDevOpsIssuer = /^https:\/\/vstoken\.dev\.azure\.com\/[0-9a-f-]{36}\/?$/i
const entraIssuer =
  /^https:\/\/login\.(microsoftonline\.(com|us)|chinacloudapi\.cn|partner\.microsoftonline\.cn)\/[0-9a-f-]{36}\/v2\.0\/?$/i

export function issuerKind(issuer: string | undefined): IssuerKind {
  if (!issuer) return 'other'
  if (azureDevOpsIssuer.test(issuer)) return 'azure-devops'
  if (entraIssuer.test(issuer)) return 'entra'
  return 'other'
}

export interface Presented {
  issuer: string
  subject: string
  audience: string
}

const SAVE_CONNECTION =
  'Edit the service connection and save it (Azure DevOps then updates a federated credential it ' +
  'created itself)'

/** Advice for an AADSTS code when the assertion came from Azure DevOps; undefined otherwise. */
export function azureDevOpsAdvice(
  code: string,
  presented: Presented,
  clientId: string
): string | undefined {
  const kind = issuerKind(presented.issuer)
  if (kind === 'other') return undefined
  const credential =
    `a federated credential on application ${clientId} with issuer '${presented.issuer}', subject ` +
    `'${presented.subject}' and audience '${presented.audience}'`
  const otherIssuer =
    kind === 'azure-devops'
      ? "The connection presents Azure DevOps' own issuer; a credential made for the Microsoft " +
        'Entra issuer (https://login.microsoftonline.com/<tenant>/v2.0, the default of connections ' +
        'since 2025) does not match it.'
      : 'The connection presents the Microsoft Entra issuer (connections made or converted since ' +
        '2025); a credential that still names https://vstoken.dev.azure.com/<organization id> ' +
        'does not match it.'
  const subjectNames =
    kind === 'azure-devops'
      ? 'The subject names the organization, project and service connection, so renaming any of ' +
        'them changes it.'
      : 'The subject holds the organization id and the service connection id, so a credential made ' +
        'for another connection (or another organization) does not match it.'
  const advice: Record<string, string> = {
    AADSTS700211: `${otherIssuer} ${SAVE_CONNECTION}, or add ${credential}.`,
    AADSTS700213: `${subjectNames} ${SAVE_CONNECTION}, or add ${credential} (case-sensitive).`,
    AADSTS700212:
      `Azure DevOps always presents the audience '${presented.audience}'; set the federated ` +
      `credential's audience to exactly that.`,
    AADSTS70021: `${subjectNames} ${otherIssuer} ${SAVE_CONNECTION}, or add ${credential}.`,
    AADSTS70025: `Application ${clientId} has no federated credential at all. ${SAVE_CONNECTION}, or add ${credential}.`,
    AADSTS70052:
      'With the Microsoft Entra issuer, the identity of a service connection must be a single-tenant ' +
      'app registration or a managed identity; a multitenant app is refused. Use a single-tenant ' +
      'app registration or a user-assigned managed identity for the connection.',
    AADSTS700223:
      'Workload identity federation is turned off for this identity or tenant. Ask a tenant ' +
      `administrator to allow federated credentials for issuer '${presented.issuer}'.`,
    AADSTS700238:
      'A tenant policy restricts which issuers a federated credential may trust. Ask a tenant ' +
      `administrator to allow issuer '${presented.issuer}'.`,
    AADSTS700016:
      `Application ${clientId} was not found in the tenant: check the service connection's ` +
      'service principal (client) id and tenant id.',
    AADSTS700024:
      'The ID token was outside its validity period (Azure DevOps issues tokens for about 5-10 ' +
      'minutes); re-run the job, and check the agent\u2019s clock.'
  }
  return advice[code]
}
