import { cloudNamed } from '../../core/clouds.js'
import {
  collectionUri,
  oidcRequestUri,
  type PipelineRun,
  type ServiceConnection
} from './pipeline-run.js'

/** The agent version the emulated job reports (one with both the Node24 and Node20_1 handlers). */
const AGENT_VERSION = '4.266.2'

/**
 * What an Azure Pipelines agent puts in a task's environment for this job and one Azure Resource
 * Manager service connection: the job's variables, the job access token as the
 * `SystemVssConnection` endpoint, and the connection as `ENDPOINT_*` variables keyed by its id.
 * With these and the task's `INPUT_*` variables, `node <task>/<target>` runs as on an agent.
 */
export function agentEnv(
  run: PipelineRun,
  connection: ServiceConnection | undefined,
  tempDirectory: string
): Record<string, string> {
  const env: Record<string, string> = {
    SYSTEM_OIDCREQUESTURI: oidcRequestUri(run),
    SYSTEM_COLLECTIONURI: collectionUri(run),
    SYSTEM_TEAMFOUNDATIONCOLLECTIONURI: collectionUri(run),
    SYSTEM_TEAMPROJECT: run.project,
    SYSTEM_TEAMPROJECTID: run.projectId,
    SYSTEM_PLANID: run.planId,
    SYSTEM_JOBID: run.jobId,
    SYSTEM_HOSTTYPE: run.hostType,
    SYSTEM_DEFINITIONID: String(run.pipelineId),
    SYSTEM_STAGENAME: run.stage,
    SYSTEM_JOBNAME: run.job,
    BUILD_BUILDID: String(run.buildId),
    AGENT_TEMPDIRECTORY: tempDirectory,
    AGENT_VERSION,
    ENDPOINT_URL_SYSTEMVSSCONNECTION: collectionUri(run),
    ENDPOINT_AUTH_SYSTEMVSSCONNECTION: JSON.stringify({
      parameters: { AccessToken: run.accessToken },
      scheme: 'OAuth'
    })
  }
  if (!connection) return env
  return { ...env, ...connectionEnv(run, connection) }
}

/** The `ENDPOINT_*` variables of one connection, and `AZURE_DEVOPS_SERVICE_CONNECTION=<id>`. */
export function connectionEnv(
  run: PipelineRun,
  connection: ServiceConnection
): Record<string, string> {
  const id = connection.id
  const parameters = { serviceprincipalid: connection.appId, tenantid: run.tenantId }
  return {
    [`ENDPOINT_URL_${id}`]: `https://${cloudNamed(connection.environment).armHost}/`,
    [`ENDPOINT_AUTH_${id}`]: JSON.stringify({ parameters, scheme: connection.scheme }),
    [`ENDPOINT_AUTH_SCHEME_${id}`]: connection.scheme,
    [`ENDPOINT_AUTH_PARAMETER_${id}_SERVICEPRINCIPALID`]: connection.appId,
    [`ENDPOINT_AUTH_PARAMETER_${id}_TENANTID`]: run.tenantId,
    ...(connection.subscriptionId
      ? { [`ENDPOINT_DATA_${id}_SUBSCRIPTIONID`]: connection.subscriptionId }
      : {}),
    [`ENDPOINT_DATA_${id}_ENVIRONMENT`]: connection.environment,
    [`ENDPOINT_DATA_${id}_SCOPELEVEL`]: 'Subscription',
    AZURE_DEVOPS_SERVICE_CONNECTION: id
  }
}
