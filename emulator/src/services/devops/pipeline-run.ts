import { createHash } from 'node:crypto'
import type { Scenario, ScenarioServiceConnection } from '../../core/scenario-types.js'
import { AZURE_DEVOPS_HOST, AZURE_DEVOPS_ISSUER_HOST } from '../../core/hosts.js'
import { cloudNamed } from '../../core/clouds.js'

/** An Azure Resource Manager service connection as the local Azure DevOps keeps it. */
export interface ServiceConnection {
  id: string
  name: string
  scheme: string
  appId: string
  issuer: 'entra' | 'azure-devops'
  subscriptionId?: string
  environment: string
  referenced: boolean
}

/** The organization, project and pipeline job whose tasks ask for ID tokens. */
export interface PipelineRun {
  organization: string
  organizationId: string
  project: string
  projectId: string
  pipelineId: number
  pipelineName: string
  planId: string
  jobId: string
  buildId: number
  hostType: string
  stage: string
  job: string
  /** `System.AccessToken`, the bearer token of the job's REST calls. */
  accessToken: string
  tenantId: string
  serviceConnections: ServiceConnection[]
}

/** A GUID derived from a text, so that ids a scenario leaves out stay the same from run to run. */
function stableGuid(text: string): string {
  const h = createHash('sha256').update(text).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

export function pipelineRunFromScenario(
  scenario: Scenario,
  generatedAccessToken: string
): PipelineRun | undefined {
  const d = scenario.azureDevOps
  if (!d) return undefined
  const seed = `${d.organizationId}/${d.projectId}`
  const defaultSubscription =
    scenario.defaults?.subscriptionId ?? scenario.subscriptions[0]?.subscriptionId
  return {
    organization: d.organization,
    organizationId: d.organizationId.toLowerCase(),
    project: d.project,
    projectId: d.projectId.toLowerCase(),
    pipelineId: d.pipeline?.id ?? 1,
    pipelineName: d.pipeline?.name ?? d.project,
    planId: (d.run?.planId ?? stableGuid(`${seed}/plan`)).toLowerCase(),
    jobId: (d.run?.jobId ?? stableGuid(`${seed}/job`)).toLowerCase(),
    buildId: d.run?.buildId ?? 1,
    hostType: d.run?.hostType ?? 'build',
    stage: d.run?.stage ?? 'Deploy',
    job: d.run?.job ?? 'Provision',
    accessToken: d.accessToken ?? generatedAccessToken,
    tenantId: scenario.tenantId.toLowerCase(),
    serviceConnections: d.serviceConnections.map(c => connectionFrom(c, defaultSubscription))
  }
}

function connectionFrom(c: ScenarioServiceConnection, subscriptionId?: string): ServiceConnection {
  return {
    id: c.id.toLowerCase(),
    name: c.name,
    scheme: c.scheme ?? 'WorkloadIdentityFederation',
    appId: c.appId.toLowerCase(),
    issuer: c.issuer ?? 'entra',
    subscriptionId: c.subscriptionId ?? subscriptionId,
    environment: cloudNamed(c.environment).name,
    referenced: c.referenced ?? true
  }
}

export function azureDevOpsIssuer(run: Pick<PipelineRun, 'organizationId'>): string {
  return `https://${AZURE_DEVOPS_ISSUER_HOST}/${run.organizationId}`
}

/** The Entra issuer of a connection's ID tokens: the tenant's v2.0 issuer in the connection's cloud. */
export function entraIssuer(
  run: Pick<PipelineRun, 'tenantId'>,
  connection: ServiceConnection
): string {
  return `https://${cloudNamed(connection.environment).entraHost}/${run.tenantId}/v2.0`
}

/** `{collection}/{projectId}/_apis/distributedtask/hubs/{hub}/plans/{plan}/jobs/{job}/oidctoken` */
export function oidcRequestUri(run: PipelineRun): string {
  return (
    `${collectionUri(run)}${run.projectId}/_apis/distributedtask/hubs/${run.hostType}/plans/` +
    `${run.planId}/jobs/${run.jobId}/oidctoken`
  )
}

export function collectionUri(run: Pick<PipelineRun, 'organization'>): string {
  return `https://${AZURE_DEVOPS_HOST}/${run.organization}/`
}

/** The first Azure DevOps application's id: the `a/` part of an Entra-issued subject. */
const AZURE_DEVOPS_APP_ID = '499b84ac-1321-427f-aa17-267ca6975798'

function guidBase64Url(guid: string): string {
  return Buffer.from(guid.replace(/-/g, ''), 'hex').toString('base64url')
}

/**
 * The subject of a connection's ID tokens. Azure DevOps' own issuer names the organization,
 * project and connection (so a rename changes it); the Entra issuer uses ids only, under a prefix
 * the local Azure renders as `/eid1/c/pub/t/{tenant}/a/{Azure DevOps app}` (each id as base64url).
 */
export function connectionSubject(run: PipelineRun, connection: ServiceConnection): string {
  if (connection.issuer === 'azure-devops') {
    return `sc://${run.organization}/${run.project}/${connection.name}`
  }
  return (
    `/eid1/c/pub/t/${guidBase64Url(run.tenantId)}/a/${guidBase64Url(AZURE_DEVOPS_APP_ID)}` +
    `/sc/${run.organizationId}/${connection.id}`
  )
}

/** The issuer and subject of a connection's ID tokens, as a federated credential must name them. */
export function federatedCredentialFor(
  run: PipelineRun,
  connection: ServiceConnection
): { issuer: string; subject: string; audiences: string[] } {
  return {
    issuer:
      connection.issuer === 'azure-devops' ? azureDevOpsIssuer(run) : entraIssuer(run, connection),
    subject: connectionSubject(run, connection),
    audiences: ['api://AzureADTokenExchange']
  }
}
