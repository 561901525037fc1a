/**
 * Crash safety of the HSM activation: the security domain exists only in the answer to the
 * download request, so a run that dies anywhere in the activation must end, on the next runs,
 * either with the security domain on disk (and exit 0), or with every later run failing loudly and
 * saying what to do, never with a silent exit 0 and no security domain.
 *
 * The HSM exists but is not activated. The action is SIGKILLed at each request of its activation
 * (the status read before the file is created, the tag writes, the download, every read of the
 * activation poll), at each write once while it goes through and once cut off; and, separately,
 * its write of the security domain fails partway (a file size limit). Each is re-run twice with the
 * same inputs. Two regimes: the download completes at the second status read after it started
 * (`slow`: the poll sees it under way, and a re-run may find it so), or as it is accepted
 * (`instant`: only the points from the download on, since before it the regimes do not differ).
 * Security-domain files that cannot be created are refused before anything is downloaded.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { X509Certificate, createHash } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  assertExit0,
  crashAtRequest,
  defaultNames,
  describeRequest,
  errorMessage,
  hsmOf,
  preparedScenario,
  startEach,
  withLab,
  writeSecurityDomainCertificates,
  writes,
  type ActionRun,
  type CrashVariant,
  type Emulator,
  type Lab,
  type PendingRequest,
  type RequestLogEntry,
  type Scenario
} from '../../testkit/index.js'

const ACCOUNT = 'activation-crash'
const HSM_HOST = `${defaultNames.hsmName}.managedhsm.azure.net`
const STATUS = `GET ${HSM_HOST}/securitydomain/download/pending`
const DOWNLOAD = `POST ${HSM_HOST}/securitydomain/download`
const TAGS =
  /^PATCH management\.azure\.com\/.*\/managedHSMs\/[^/]+\/providers\/Microsoft\.Resources\/tags\/default$/
/** How long the slow regime's download takes on the local Azure's clock (which jumps instead). */
const DOWNLOAD_MS = 120_000
/** A file size limit well below the security domain's size. */
const FILE_SIZE_LIMIT_BYTES = 1024
/** Cases side by side, each with its own local Azure: more would starve two cores. */
const SIDE_BY_SIDE = 4

type Regime = 'slow' | 'instant'
const regimes: Regime[] = ['slow', 'instant']

let workDir: string
let certificates: string[]
/** SHA-256 thumbprints of the certificates, as the security domain names its recipients. */
let thumbprints: string[]

function activationScenario(regime: Regime): Scenario {
  return preparedScenario(s => {
    hsmOf(s).activationStatus = 'NotActivated'
    // No Retry-After pauses: the waits poll at the action's own shortest pace.
    s.timing = { retryAfterSeconds: 0 }
    // Registered already, so that no registration runs alongside the activation.
    s.subscriptions[0].providers = {
      ...s.subscriptions[0].providers,
      'Microsoft.DocumentDB': 'Registered'
    }
    if (regime === 'slow') s.timing = { ...s.timing, securityDomainDownload: DOWNLOAD_MS }
  })
}

/**
 * In the slow regime, the download completes at the second status read since it started, in
 * whichever run that read comes: the local Azure's clock jumps by the download's time there.
 */
function completeAtSecondStatusRead(emulator: Emulator): void {
  let reads = 0
  emulator.on('before-request', (request: PendingRequest) => {
    if (describeRequest(request) !== STATUS) return
    const download =
      emulator.store.world.hsmDataPlanes[defaultNames.hsmName]?.securityDomainDownload
    if (download?.status === 'InProgress' && ++reads === 2) emulator.advanceClock(DOWNLOAD_MS)
  })
}

async function withActivationLab<T>(regime: Regime, work: (lab: Lab) => Promise<T>) {
  return withLab(activationScenario(regime), async lab => {
    if (regime === 'slow') completeAtSecondStatusRead(lab.emulator)
    return work(lab)
  })
}

function activationInputs(lab: Lab, file: string): Record<string, string> {
  return lab.inputs(ACCOUNT, undefined, {
    // The smallest key: its creation after the activation is not what is tested here.
    'key-size': '2048',
    'security-domain-certificates': certificates.join('\n'),
    'security-domain-quorum': '2',
    'security-domain-file': file
  })
}

/** A folder of its own for each case's security-domain file. */
function caseFolder(): string {
  return mkdtempSync(join(workDir, 'case-'))
}

/** What the file holds, if it is a complete security domain as the local Azure builds them. */
function securityDomainIn(content: string | undefined) {
  if (!content) return undefined
  try {
    const document = JSON.parse(Buffer.from(content, 'base64').toString('utf8')) as {
      EncData: { data: { tag: string }[] }
      SharedKeys: { enc_shares: { x5t_256: string }[]; required: number }
    }
    return {
      backup: document.EncData.data.map(d => d.tag),
      recipients: document.SharedKeys.enc_shares.map(s => s.x5t_256).sort(),
      required: document.SharedKeys.required
    }
  } catch {
    return undefined
  }
}

function validSecurityDomain(content: string | undefined): boolean {
  const found = securityDomainIn(content)
  return (
    !!found &&
    JSON.stringify(found) ===
      JSON.stringify({ backup: ['hsm_backup'], recipients: [...thumbprints].sort(), required: 2 })
  )
}

const readIfFile = (path: string) =>
  existsSync(path) && lstatSync(path).isFile() ? readFileSync(path, 'utf8') : undefined

function hsmState(lab: Lab): { activation: string; tag?: string } {
  const hsm = Object.values(lab.emulator.store.world.managedHsms).find(
    h => h.name === defaultNames.hsmName
  )!
  return { activation: hsm.activationStatus, tag: hsm.tags['cmk-security-domain'] }
}

/** Where a failure message falls short of naming the file and saying what to do. */
function refusalProblems(run: ActionRun, file: string): string[] {
  const message = errorMessage(run)
  const problems: string[] = []
  if (!message) return [`no error message:\n${run.stdout.slice(-2000)}`]
  if (!message.includes(file)) problems.push('does not name the security-domain file')
  if (
    !message.includes(`az keyvault security-domain download --hsm-name ${defaultNames.hsmName}`)
  ) {
    problems.push('does not say how to download the security domain')
  }
  if (!/re-run/.test(message)) problems.push('does not say when to re-run')
  return problems.map(p => `${p}: ${message}`)
}

interface Rerun {
  run: ActionRun
  /** The writes this run made. */
  writes: RequestLogEntry[]
  /** The security-domain file after it. */
  content?: string
  hsm: { activation: string; tag?: string }
}

interface RunAndReruns {
  /** The security-domain file. */
  file: string
  first: ActionRun
  /** The request the first run was killed at. */
  at?: string
  reruns: Rerun[]
  /** What the security-domain file's folder holds at the end. */
  folder: string[]
  leaks: string[]
}

async function rerunTwice(lab: Lab, file: string): Promise<Rerun[]> {
  const reruns: Rerun[] = []
  for (let i = 0; i < 2; i++) {
    const since = lab.emulator.requests().length
    const run = await lab.run(activationInputs(lab, file))
    reruns.push({
      run,
      writes: writes(lab.emulator.requests().slice(since)),
      content: readIfFile(file),
      hsm: hsmState(lab)
    })
  }
  return reruns
}

// ---- The points of the activation, from a clean run ----

interface Seen {
  identity: string
  kind: string
}

interface KillPoint {
  regime: Regime
  identity: string
  /** Which request of that identity (1 = the first the run sends). */
  occurrence: number
  variant: CrashVariant
  label: string
}

/** The requests of a clean run, in the order they reached their services. */
interface CleanRun {
  run: ActionRun
  seen: Seen[]
  content?: string
  hsm: { activation: string; tag?: string }
}

function cleanRun(regime: Regime): Promise<CleanRun> {
  const file = join(caseFolder(), 'security-domain.json')
  return withActivationLab(regime, async lab => {
    const seen: Seen[] = []
    lab.emulator.on('before-request', (r: PendingRequest) =>
      seen.push({ identity: describeRequest(r), kind: r.kind })
    )
    const run = await lab.run(activationInputs(lab, file))
    return { run, seen, content: readIfFile(file), hsm: hsmState(lab) }
  })
}

/**
 * Every request from the status read right before the security-domain file is created to the
 * last read of the activation poll (the next request is the key step's), each with its variants;
 * in the instant regime, from the download on.
 */
function activationPoints(regime: Regime, clean: CleanRun): KillPoint[] {
  const { seen } = clean
  const firstTag = seen.findIndex(r => TAGS.test(r.identity))
  const start = seen
    .slice(0, firstTag)
    .map(r => r.identity)
    .lastIndexOf(STATUS)
  const end = seen.findIndex(
    (r, i) => i > firstTag && r.identity.startsWith(`GET ${HSM_HOST}/keys`)
  )
  if (firstTag < 0 || start < 0 || end < 0) return []
  const points: KillPoint[] = []
  let tags = 0
  let polls = 0
  for (let i = start; i < end; i++) {
    const { identity, kind } = seen[i]
    const occurrence = seen.slice(0, i + 1).filter(r => r.identity === identity).length
    const isTag = TAGS.test(identity)
    if (isTag) tags++
    const downloaded = seen.slice(start, i + 1).some(r => r.identity === DOWNLOAD)
    if (!isTag && identity !== DOWNLOAD && downloaded && tags === 2) polls++
    const name =
      identity === STATUS && !downloaded
        ? 'status read, before the file is created'
        : isTag
          ? tags === 1
            ? 'tag "download started"'
            : 'tag "saved"'
          : identity === DOWNLOAD
            ? 'download'
            : `activation poll, read ${polls} (${identity === STATUS ? 'download status' : 'HSM'})`
    const variants: CrashVariant[] = kind === 'write' ? ['cut-off', 'lands'] : ['lands']
    for (const variant of variants) {
      const carriedOut = downloaded && !(identity === DOWNLOAD && variant === 'cut-off')
      if (regime === 'instant' && !carriedOut) continue
      points.push({
        regime,
        identity,
        occurrence,
        variant,
        label: `${regime}: ${name}, ${variant}`
      })
    }
  }
  return points
}

/**
 * What the re-runs must end with: the security domain is lost only when the download was carried
 * out and its answer never reached the file; every other crash leaves something a re-run finishes.
 */
function expectedOutcome(p: KillPoint): 'saved' | 'refused' {
  return p.identity === DOWNLOAD && p.variant === 'lands' ? 'refused' : 'saved'
}

function crashCase(p: KillPoint): Promise<RunAndReruns> {
  const folder = caseFolder()
  const file = join(folder, 'security-domain.json')
  return withActivationLab(p.regime, async lab => {
    let count = 0
    const crash = crashAtRequest(
      lab.emulator,
      r => describeRequest(r) === p.identity && ++count === p.occurrence,
      p.variant
    )
    const first = await lab.run(activationInputs(lab, file), { onSpawn: crash.onSpawn })
    await crash.settled()
    crash.dispose()
    const reruns = await rerunTwice(lab, file)
    return {
      file,
      first,
      at: crash.at,
      reruns,
      folder: readdirSync(folder),
      leaks: lab.leaks(first, ...reruns.map(r => r.run))
    }
  })
}

/** The write of the security domain stops partway (the file size limit) and fails. */
function writeFailsCase(regime: Regime): Promise<RunAndReruns> {
  const folder = caseFolder()
  const file = join(folder, 'security-domain.json')
  return withActivationLab(regime, async lab => {
    const first = await lab.run(activationInputs(lab, file), {
      fileSizeLimitBytes: FILE_SIZE_LIMIT_BYTES
    })
    const reruns = await rerunTwice(lab, file)
    return {
      file,
      first,
      reruns,
      folder: readdirSync(folder),
      leaks: lab.leaks(first, ...reruns.map(r => r.run))
    }
  })
}

/** Every way the outcome breaks the rule, for a failure report that lists them all. */
function outcomeProblems(
  o: RunAndReruns,
  expected: 'saved' | 'refused',
  killed: boolean
): string[] {
  const problems: string[] = [...o.leaks]
  if (killed && o.first.signal !== 'SIGKILL') {
    problems.push(`the first run was not killed (exit ${o.first.code})`)
  }
  if (!killed && o.first.code === 0) problems.push('the first run exited 0')
  o.reruns.forEach((r, i) => {
    const which = `re-run ${i + 1}`
    if (r.run.code === 0) {
      // Never a silent exit 0 without the security domain.
      if (!validSecurityDomain(r.content)) {
        problems.push(`${which} exited 0, but the file holds no complete security domain`)
      }
      if (r.hsm.activation !== 'Active' || !r.hsm.tag?.startsWith('saved ')) {
        problems.push(`${which} exited 0 with the HSM ${JSON.stringify(r.hsm)}`)
      }
    } else {
      problems.push(...refusalProblems(r.run, o.file).map(p => `${which} ${p}`))
      if (r.writes.length) {
        problems.push(`${which} failed after writes: ${r.writes.map(describeRequest).join(', ')}`)
      }
      if (r.content) problems.push(`${which} failed, and the file is not empty`)
    }
  })
  const outcomes = o.reruns.map(r => (r.run.code === 0 ? 'saved' : 'refused'))
  if (outcomes.some(x => x !== expected)) {
    problems.push(`expected ${expected}, the re-runs ended ${outcomes.join(', ')}`)
  }
  const saved = o.reruns.filter(r => r.run.code === 0).map(r => r.content)
  if (new Set(saved).size > 1) problems.push('the re-runs left different security domains')
  if (o.folder.some(name => name !== 'security-domain.json')) {
    problems.push(`the folder holds more than the file: ${o.folder.join(', ')}`)
  }
  return problems
}

// ---- Files that cannot be created ----

function canCreateIn(folder: string): boolean {
  const probe = join(folder, '.probe')
  try {
    writeFileSync(probe, '', { flag: 'wx' })
    rmSync(probe)
    return true
  } catch {
    return false
  }
}

/** Makes a folder refuse new files, to root too (immutable), or throws if it cannot here. */
function makeUnwritable(folder: string): void {
  chmodSync(folder, 0o555)
  if (canCreateIn(folder) && process.getuid?.() === 0) execFileSync('chattr', ['+i', folder])
  if (canCreateIn(folder)) throw new Error(`cannot make ${folder} unwritable on this machine`)
}

function makeWritable(folder: string): void {
  if (process.getuid?.() === 0) {
    try {
      execFileSync('chattr', ['-i', folder], { stdio: 'ignore' })
    } catch {
      // Not immutable, or no chattr: chmod is enough then.
    }
  }
  chmodSync(folder, 0o755)
}

interface Refusal {
  run: ActionRun
  file: string
  requests: RequestLogEntry[]
  exists: boolean
  /** The run once the folder is writable again, when the case has one. */
  after?: { run: ActionRun; content?: string }
}

function unwritableFolderCase(): Promise<Refusal> {
  const folder = caseFolder()
  const file = join(folder, 'security-domain.json')
  return withActivationLab('instant', async lab => {
    makeUnwritable(folder)
    try {
      const run = await lab.run(activationInputs(lab, file))
      return { run, file, requests: lab.emulator.requests(), exists: existsSync(file) }
    } finally {
      makeWritable(folder)
    }
  })
}

function danglingLinkCase(): Promise<Refusal> {
  const folder = caseFolder()
  const file = join(folder, 'security-domain.json')
  const target = join(folder, 'elsewhere.json')
  symlinkSync(target, file)
  return withActivationLab('instant', async lab => {
    const run = await lab.run(activationInputs(lab, file))
    return { run, file, requests: lab.emulator.requests(), exists: existsSync(target) }
  })
}

/**
 * The folder was writable when the inputs were checked, and turns unwritable right before the
 * file is created (at the activation's status read); once writable again, a re-run activates.
 */
function folderTurnsUnwritableCase(): Promise<Refusal> {
  const folder = caseFolder()
  const file = join(folder, 'security-domain.json')
  return withActivationLab('instant', async lab => {
    let statusReads = 0
    const turn = (r: PendingRequest) => {
      // The first is the observation's, the second the activation's.
      if (describeRequest(r) === STATUS && ++statusReads === 2) makeUnwritable(folder)
    }
    lab.emulator.on('before-request', turn)
    let run: ActionRun
    try {
      run = await lab.run(activationInputs(lab, file))
    } finally {
      lab.emulator.off('before-request', turn as (arg: never) => void)
      makeWritable(folder)
    }
    const requests = lab.emulator.requests()
    const exists = existsSync(file)
    const again = await lab.run(activationInputs(lab, file))
    return { run, file, requests, exists, after: { run: again, content: readIfFile(file) } }
  })
}

// ---- Runs ----

/** At most `limit` of the works given to it run at a time, in the order given. */
function lanes(limit: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0
  const waiting: (() => void)[] = []
  return async work => {
    if (running >= limit) await new Promise<void>(go => waiting.push(go))
    running++
    try {
      return await work()
    } finally {
      running--
      waiting.shift()?.()
    }
  }
}

let clean: Map<Regime, CleanRun>
let points: KillPoint[]
let crashes: Map<string, Promise<RunAndReruns>>
let writeFails: Map<string, Promise<RunAndReruns>>
let refusals: Map<string, Promise<Refusal>>

const refusalCases: Record<string, () => Promise<Refusal>> = {
  'unwritable folder': unwritableFolderCase,
  'dangling link': danglingLinkCase,
  'folder turns unwritable': folderTurnsUnwritableCase
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'activation-crash-'))
  const certFolder = join(workDir, 'certificates')
  mkdirSync(certFolder)
  certificates = await writeSecurityDomainCertificates(certFolder, 3)
  thumbprints = certificates.map(path =>
    createHash('sha256')
      .update(new X509Certificate(readFileSync(path)).raw)
      .digest('base64url')
  )
  // One pool for every case; those that need no clean run start first.
  const lane = lanes(SIDE_BY_SIDE)
  const cleanRuns = Promise.all(regimes.map(r => lane(() => cleanRun(r))))
  refusals = startEach(
    Object.keys(refusalCases),
    name => name,
    name => lane(refusalCases[name])
  )
  writeFails = startEach(
    regimes,
    r => r,
    r => lane(() => writeFailsCase(r))
  )
  const runs = await cleanRuns
  clean = new Map(regimes.map((r, i) => [r, runs[i]]))
  points = regimes.flatMap(r => activationPoints(r, clean.get(r)!))
  crashes = startEach(
    points,
    p => p.label,
    p => lane(() => crashCase(p))
  )
}, 60_000)

afterAll(async () => {
  // Every case has ended (a failed one too) before its folders go.
  const all = [crashes, writeFails, refusals].flatMap(m => [...(m?.values() ?? [])])
  await Promise.allSettled(all)
  if (workDir) rmSync(workDir, { recursive: true, force: true })
}, 120_000)

describe('activation crash safety', () => {
  test.each(regimes)(
    '%s: the clean run activates the HSM and saves the security domain',
    regime => {
      const c = clean.get(regime)!
      assertExit0(c.run, `clean ${regime} run`)
      expect(validSecurityDomain(c.content)).toBe(true)
      expect(c.hsm.activation).toBe('Active')
      expect(c.hsm.tag).toMatch(/^saved /)
      const names = activationPoints(regime, c).map(p => p.label.replace(`${regime}: `, ''))
      const fromDownload = [
        'download, lands',
        'tag "saved", cut-off',
        'tag "saved", lands',
        'activation poll, read 1 (download status), lands',
        'activation poll, read 2 (HSM), lands'
      ]
      // The slow download is still under way at the poll's first two reads.
      expect(names).toEqual(
        regime === 'instant'
          ? fromDownload
          : [
              'status read, before the file is created, lands',
              'tag "download started", cut-off',
              'tag "download started", lands',
              'download, cut-off',
              ...fromDownload,
              'activation poll, read 3 (download status), lands',
              'activation poll, read 4 (HSM), lands'
            ]
      )
    }
  )

  // The points are known only once the clean runs are done, so one test walks each regime's.
  test.each(regimes)(
    '%s: killed at every request of the activation, the re-runs save the security domain or refuse loudly',
    async regime => {
      const failures: string[] = []
      const mine = points.filter(p => p.regime === regime)
      for (const p of mine) {
        const o = await crashes.get(p.label)!
        const problems = outcomeProblems(o, expectedOutcome(p), true)
        if (o.at !== p.identity) problems.push(`killed at ${o.at ?? 'no request'}`)
        if (problems.length) failures.push(`${p.label}:\n  ${problems.join('\n  ')}`)
      }
      expect(failures).toEqual([])
      expect(mine.length).toBe(regime === 'slow' ? 11 : 5)
    },
    120_000
  )

  test.each(regimes)(
    '%s: the write of the security domain fails partway, and every re-run refuses loudly',
    async regime => {
      const o = await writeFails.get(regime)!
      expect(o.first.code).toBe(1)
      // The run that lost it says so, and what to do.
      expect(refusalProblems(o.first, o.file)).toEqual([])
      expect(errorMessage(o.first)).toMatch(/was downloaded, but writing it to .* failed \(EFBIG/)
      expect(outcomeProblems(o, 'refused', false)).toEqual([])
    },
    120_000
  )
})

describe('security-domain files that cannot be created are refused before any download', () => {
  test('a folder this job may not write to: refused before any request', async () => {
    const r = await refusals.get('unwritable folder')!
    expect(r.run.code).toBe(1)
    expect(errorMessage(r.run)).toContain(`Input 'security-domain-file' is '${r.file}'`)
    expect(errorMessage(r.run)).toMatch(/its folder is not writable by this job/)
    expect(r.requests).toEqual([])
    expect(r.exists).toBe(false)
  })

  test('a dangling link at the path: refused before any request, nothing created behind it', async () => {
    const r = await refusals.get('dangling link')!
    expect(r.run.code).toBe(1)
    expect(errorMessage(r.run)).toContain(`Input 'security-domain-file' is '${r.file}'`)
    expect(errorMessage(r.run)).toMatch(/is a symbolic link/)
    expect(r.requests).toEqual([])
    expect(r.exists).toBe(false)
  })

  test('a folder that turns unwritable before the file is created: no tag, no download; a later run activates', async () => {
    const r = await refusals.get('folder turns unwritable')!
    expect(r.run.code).toBe(1)
    const message = errorMessage(r.run)
    expect(message).toContain(`Input 'security-domain-file' is '${r.file}': it cannot be created`)
    expect(message).toMatch(/the security domain was not downloaded. Choose a path in a folder/)
    expect(r.requests.map(describeRequest)).not.toContain(DOWNLOAD)
    expect(writes(r.requests)).toEqual([])
    expect(r.exists).toBe(false)
    assertExit0(r.after!.run, 'the run with the folder writable again')
    expect(validSecurityDomain(r.after!.content)).toBe(true)
  })
})
