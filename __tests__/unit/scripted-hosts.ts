/**
 * Hosts of the local Azure whose answers a test writes itself, for shapes of answer that Azure may
 * give and the local Azure's own services never do (a paged list, a field left out, an odd key). The
 * local Azure still serves them: its TLS, its proxy and its token checks (the HSM's challenge too).
 */
import type { Service } from '../../testkit/index.js'

/** A request as the scripted host received it. */
export interface ScriptedRequest {
  method: string
  /** Path and query as sent. */
  rawUrl: string
  path: string
  query: URLSearchParams
  headers: Record<string, string | string[] | undefined>
  /** The JSON body, parsed; undefined when there is none. */
  body: unknown
}

export interface ScriptedAnswer {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

export type Script = (request: ScriptedRequest) => ScriptedAnswer

export interface ScriptedHost {
  readonly service: Service
  /** What the host received since the last `answer`, in order. */
  readonly requests: ScriptedRequest[]
  /** Answers every request with `script` from now on (and forgets the requests so far). */
  answer(script: Script): void
  /** Stops answering: ARM's host goes back to the local Azure's own service. */
  stop(): void
}

function scriptedHost(
  name: string,
  matchesHost: (host: string) => boolean,
  auth: Pick<Service, 'audiences' | 'challenge' | 'authErrorStyle'>
): ScriptedHost {
  let script: Script | undefined
  const requests: ScriptedRequest[] = []
  const service: Service = {
    name,
    ...auth,
    matches: host => script !== undefined && matchesHost(host),
    handle: ({ req }) => {
      const text = req.body.toString('utf8')
      const request: ScriptedRequest = {
        method: req.method,
        rawUrl: req.rawUrl,
        path: req.path,
        query: req.query,
        headers: req.headers,
        body: text ? (JSON.parse(text) as unknown) : undefined
      }
      requests.push(request)
      const answer = script!(request)
      return { status: answer.status, body: answer.body, headers: answer.headers }
    }
  }
  return {
    service,
    requests,
    answer(next) {
      requests.length = 0
      script = next
    },
    stop() {
      script = undefined
      requests.length = 0
    }
  }
}

/**
 * A Managed HSM data plane at `https://<name>.managedhsm.azure.net`, behind Key Vault's challenge.
 * The local Azure resolves the host only while its world has a data plane of that name
 * (`addDataPlane`).
 */
export function scriptedHsm(name: string): ScriptedHost {
  return scriptedHost(`Managed HSM ${name} (scripted)`, host => host === hsmHost(name), {
    audiences: ['https://managedhsm.azure.net'],
    challenge: {
      authorization: tenantId => `https://login.microsoftonline.com/${tenantId}`,
      resource: 'https://managedhsm.azure.net'
    }
  })
}

export const hsmHost = (name: string): string => `${name}.managedhsm.azure.net`

/** Resource Manager, answered by the script while one is set. */
export function scriptedArm(): ScriptedHost {
  return scriptedHost('Resource Manager (scripted)', host => host === 'management.azure.com', {
    audiences: ['https://management.azure.com', 'https://management.core.windows.net/']
  })
}

/** Microsoft Graph, answered by the script while one is set. */
export function scriptedGraph(): ScriptedHost {
  return scriptedHost('Microsoft Graph (scripted)', host => host === 'graph.microsoft.com', {
    audiences: ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'],
    authErrorStyle: 'graph'
  })
}

/** An answer in Azure's error shape. */
export function errorAnswer(status: number, code: string, message = code): ScriptedAnswer {
  return { status, body: { error: { code, message } } }
}
