// Placeholder replaced by the Managed HSM data-plane implementation.
import type { Service } from '../../core/service.js'
import { notEmulated } from '../../core/errors.js'

export const hsmService: Service = {
  name: 'Managed HSM',
  matches: host => host.endsWith('.managedhsm.azure.net'),
  audiences: ['https://managedhsm.azure.net'],
  challenge: {
    authorization: tenantId => `https://login.microsoftonline.com/${tenantId}`,
    resource: 'https://managedhsm.azure.net'
  },
  handle: ctx => notEmulated(ctx.req.host, ctx.req.method, ctx.req.path)
}
