import { describe, expect, it } from '@jest/globals'
import { armService } from '../../src/services/arm/index.js'
import { jweDecrypt } from '../../src/services/hsm/jwe.js'
import { combineShares } from '../../src/services/hsm/shamir.js'
import { READER } from './test-tenant.js'
import { hsmPath } from './arm-paths.js'
import { Harness } from './harness.js'
import { downloadSecurityDomain, hsmCall, seedHsm, HSM } from './hsm-fixtures.js'
import { makeCertificates } from './certificates.js'

describe('security domain download (activation)', () => {
  it('returns a real security domain and activates the HSM when the download completes', async () => {
    const h = new Harness({ securityDomainDownload: 60_000 })
    seedHsm(h, { activationStatus: 'NotActivated' })
    const certs = await makeCertificates(3)
    const res = await downloadSecurityDomain(h, certs)
    expect(res.status).toBe(202)
    expect(res.headers).toEqual({
      'Azure-AsyncOperation': `https://${HSM}.managedhsm.azure.net/securitydomain/download/pending`,
      'Retry-After': '1'
    })
    const domain = JSON.parse(Buffer.from(res.json.value, 'base64').toString('utf8'))
    expect(domain.version).toBe(2)
    expect(domain.SharedKeys).toMatchObject({ key_algorithm: 'shamir_share', required: 2 })
    expect(domain.SharedKeys.enc_shares).toHaveLength(3)
    expect(domain.SharedKeys.enc_shares[1].x5t_256).toBe(certs[1]!.jwk['x5t#S256'])

    // any two certificate holders can recover the domain key and open the encrypted data
    const shares = [0, 2].map(i =>
      jweDecrypt(domain.SharedKeys.enc_shares[i].enc_key, certs[i]!.privateKey)
    )
    const domainKey = combineShares(shares)
    expect(jweDecrypt(domain.EncData.data[0].compact_jwe, domainKey)).toHaveLength(1024)
    expect(combineShares([shares[0]!])).not.toEqual(domainKey)

    const pending = await hsmCall(h, { method: 'GET', path: '/securitydomain/download/pending' })
    expect(pending.json).toEqual({ status: 'InProgress' })
    const keys = await hsmCall(h, { method: 'GET', path: '/keys' })
    expect(keys.json.error.code).toBe('HSMNotActivated')
    h.advance(60_000)
    const done = await hsmCall(h, { method: 'GET', path: '/securitydomain/download/pending' })
    expect(done.json).toEqual({ status: 'Success', status_details: 'The resource is active.' })
    const arm = await h.call(armService, { method: 'GET', path: hsmPath(HSM) })
    expect(arm.json.properties.securityDomainProperties.activationStatus).toBe('Active')
    const again = await downloadSecurityDomain(h, certs)
    expect(again.status).toBe(409)
  })

  it('validates certificates, quorum and permission', async () => {
    const h = new Harness()
    seedHsm(h, { activationStatus: 'NotActivated' })
    const certs = await makeCertificates(3)
    const download = (body: unknown, as?: string) =>
      hsmCall(h, { method: 'POST', path: '/securitydomain/download', body, ...(as ? { as } : {}) })
    const jwks = certs.map(c => c.jwk)
    expect((await download({ certificates: jwks.slice(0, 2), required: 2 })).status).toBe(400)
    expect((await download({ certificates: jwks, required: 4 })).status).toBe(400)
    expect((await download({ certificates: jwks, required: 1 })).status).toBe(400)
    const mismatched = [{ ...jwks[0]!, n: jwks[1]!.n }, jwks[1], jwks[2]]
    expect((await download({ certificates: mismatched, required: 2 })).status).toBe(400)
    const noCert = [{ ...jwks[0]!, x5c: ['bm90IGEgY2VydA=='] }, jwks[1], jwks[2]]
    expect((await download({ certificates: noCert, required: 2 })).status).toBe(400)
    const denied = await download({ certificates: jwks, required: 2 }, READER)
    expect(denied.status).toBe(403)
    expect(denied.json.error.message).toContain('securitydomain/download/action on /')
    expect((await download({ certificates: jwks })).status).toBe(202)
  })
})
