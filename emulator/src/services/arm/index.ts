// Placeholder replaced by the ARM service implementation.
import type { Service } from '../../core/service.js'
import { notEmulated } from '../../core/errors.js'

export const armService: Service = {
  name: 'Azure Resource Manager',
  matches: host => host === 'management.azure.com',
  audiences: ['https://management.azure.com', 'https://management.core.windows.net/'],
  handle: ctx => notEmulated('management.azure.com', ctx.req.method, ctx.req.path)
}
