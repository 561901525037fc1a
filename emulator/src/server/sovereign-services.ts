import type { EmuResponse, Service, ServiceContext } from '../core/service.js'
import { AzureError } from '../core/errors.js'
import { PUBLIC_CLOUD, SOVEREIGN_CLOUDS, type EmulatedCloud } from '../core/clouds.js'

const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000'

interface PublicServices {
  entra: Service
  graph: Service
  arm: Service
  hsm: Service
}

/**
 * The services of the sovereign clouds (US Government, China): the public cloud's services under
 * that cloud's host names, token audiences and Managed HSM challenge. The world keeps one spelling
 * of every name (the public cloud's); Resource Manager, Managed HSM and Graph answers are
 * translated to the cloud's names on the way out (host names, and the Azure Cosmos DB
 * application id, which differs in Azure Government), and requests back on the way in, so that,
 * for example, an account created through `management.usgovcloudapi.net` names its key
 * `https://<hsm>.managedhsm.usgovcloudapi.net/keys/<key>` there. Entra ID speaks each cloud's
 * names itself.
 */
export function sovereignServices(services: PublicServices): Service[] {
  return SOVEREIGN_CLOUDS.flatMap(cloud => {
    const label = (s: Service) => `${s.name} (${cloud.name})`
    return [
      { ...services.entra, name: label(services.entra), matches: h => h === cloud.entraHost },
      translated(cloud, {
        ...services.graph,
        name: label(services.graph),
        matches: h => h === cloud.graphHost,
        audiences: [cloud.graphAudience, GRAPH_APP_ID]
      }),
      translated(cloud, {
        ...services.arm,
        name: label(services.arm),
        matches: h => h === cloud.armHost,
        audiences: cloud.armAudiences
      }),
      translated(cloud, {
        ...services.hsm,
        name: label(services.hsm),
        matches: h => h.endsWith(cloud.hsmSuffix),
        audiences: [cloud.hsmResource],
        challenge: {
          authorization: tenantId => `https://${cloud.entraHost}/${tenantId}`,
          resource: cloud.hsmResource
        }
      })
    ]
  })
}

/** Names of the public cloud and their counterparts in `cloud`. */
function namePairs(cloud: EmulatedCloud): [string, string][] {
  const pairs: [string, string][] = [
    [PUBLIC_CLOUD.hsmSuffix, cloud.hsmSuffix],
    [PUBLIC_CLOUD.armHost, cloud.armHost],
    [PUBLIC_CLOUD.graphHost, cloud.graphHost],
    [PUBLIC_CLOUD.entraHost, cloud.entraHost],
    [PUBLIC_CLOUD.cosmosAppId, cloud.cosmosAppId],
    [PUBLIC_CLOUD.cosmosSuffix, cloud.cosmosSuffix]
  ]
  return pairs.filter(([a, b]) => a !== b)
}

function replaceAll(text: string, pairs: [string, string][]): string {
  return pairs.reduce((t, [from, to]) => t.split(from).join(to), text)
}

function translated(cloud: EmulatedCloud, service: Service): Service {
  const outward = namePairs(cloud)
  const inward = outward.map(([a, b]) => [b, a] as [string, string])
  const answer = (response: EmuResponse): EmuResponse => ({
    ...response,
    headers: response.headers
      ? Object.fromEntries(
          Object.entries(response.headers).map(([k, v]) => [k, replaceAll(v, outward)])
        )
      : undefined,
    body:
      typeof response.body === 'string'
        ? replaceAll(response.body, outward)
        : response.body === undefined || Buffer.isBuffer(response.body)
          ? response.body
          : JSON.parse(replaceAll(JSON.stringify(response.body), outward))
  })
  return {
    ...service,
    handle: async (ctx: ServiceContext) => {
      const { req } = ctx
      const inbound = {
        ...req,
        path: replaceAll(req.path, inward),
        rawUrl: replaceAll(req.rawUrl, inward),
        query: new URLSearchParams(
          [...req.query].map(([k, v]) => [k, replaceAll(v, inward)] as [string, string])
        ),
        body: Buffer.from(replaceAll(req.body.toString('utf8'), inward), 'utf8')
      }
      try {
        return answer(await service.handle({ ...ctx, req: inbound }))
      } catch (error) {
        if (error instanceof AzureError) throw new AzureError(answer(error.response))
        throw error
      }
    }
  }
}
