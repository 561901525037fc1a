export const id = 889;
export const ids = [889];
export const modules = {

/***/ 9889:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  startSignIn: () => (/* binding */ startSignIn)
});

// EXTERNAL MODULE: external "node:util"
var external_node_util_ = __webpack_require__(7975);
// EXTERNAL MODULE: ./node_modules/@azure/logger/dist/esm/index.js + 1 modules
var esm = __webpack_require__(7567);
// EXTERNAL MODULE: ./src/sanitize.ts
var sanitize = __webpack_require__(5540);
;// CONCATENATED MODULE: ./src/azure/sdk-log.ts



/**
 * Sends the Azure SDK's own log (enabled by AZURE_LOG_LEVEL) on to `write`, token-free. The SDK
 * redacts Authorization headers, but its request log serialises the proxy agent too, and the
 * agent's sockets carry the raw headers of other requests in flight.
 */
function sanitizeSdkLog(write) {
    esm/* AzureLogger */.i2.log = (...args) => write(`${(0,sanitize/* sanitize */.a)((0,external_node_util_.format)(...args))}\n`);
}

// EXTERNAL MODULE: ./src/azure/transport.ts
var transport = __webpack_require__(6258);
// EXTERNAL MODULE: ./src/clock.ts
var clock = __webpack_require__(9373);
// EXTERNAL MODULE: ./src/cloud.ts
var src_cloud = __webpack_require__(1486);
// EXTERNAL MODULE: ./src/steps/names.ts
var names = __webpack_require__(1767);
// EXTERNAL MODULE: ./src/timeline.ts
var src_timeline = __webpack_require__(1472);
// EXTERNAL MODULE: ./node_modules/@azure/identity/dist/esm/index.js + 165 modules
var dist_esm = __webpack_require__(3016);
// EXTERNAL MODULE: ./src/azure/http.ts
var http = __webpack_require__(7743);
// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(3916);
;// CONCATENATED MODULE: ./src/auth/federation-advice.ts
const azureDevOpsIssuer = /^https:\/\/vstoken\.dev\.azure\.com\/[0-9a-f-]{36}\/?$/i;
const entraIssuer = /^https:\/\/login\.(microsoftonline\.(com|us)|chinacloudapi\.cn|partner\.microsoftonline\.cn)\/[0-9a-f-]{36}\/v2\.0\/?$/i;
function issuerKind(issuer) {
    if (!issuer)
        return 'other';
    if (azureDevOpsIssuer.test(issuer))
        return 'azure-devops';
    if (entraIssuer.test(issuer))
        return 'entra';
    return 'other';
}
const SAVE_CONNECTION = 'Edit the service connection and save it (Azure DevOps then updates a federated credential it ' +
    'created itself)';
/** Advice for an AADSTS code when the assertion came from Azure DevOps; undefined otherwise. */
function azureDevOpsAdvice(code, presented, clientId) {
    const kind = issuerKind(presented.issuer);
    if (kind === 'other')
        return undefined;
    const credential = `a federated credential on application ${clientId} with issuer '${presented.issuer}', subject ` +
        `'${presented.subject}' and audience '${presented.audience}'`;
    const otherIssuer = kind === 'azure-devops'
        ? "The connection presents Azure DevOps' own issuer; a credential made for the Microsoft " +
            'Entra issuer (https://login.microsoftonline.com/<tenant>/v2.0, the default of connections ' +
            'since 2025) does not match it.'
        : 'The connection presents the Microsoft Entra issuer (connections made or converted since ' +
            '2025); a credential that still names https://vstoken.dev.azure.com/<organization id> ' +
            'does not match it.';
    const subjectNames = kind === 'azure-devops'
        ? 'The subject names the organization, project and service connection, so renaming any of ' +
            'them changes it.'
        : 'The subject holds the organization id and the service connection id, so a credential made ' +
            'for another connection (or another organization) does not match it.';
    const advice = {
        AADSTS700211: `${otherIssuer} ${SAVE_CONNECTION}, or add ${credential}.`,
        AADSTS700213: `${subjectNames} ${SAVE_CONNECTION}, or add ${credential} (case-sensitive).`,
        AADSTS700212: `Azure DevOps always presents the audience '${presented.audience}'; set the federated ` +
            `credential's audience to exactly that.`,
        AADSTS70021: `${subjectNames} ${otherIssuer} ${SAVE_CONNECTION}, or add ${credential}.`,
        AADSTS70025: `Application ${clientId} has no federated credential at all. ${SAVE_CONNECTION}, or add ${credential}.`,
        AADSTS70052: 'With the Microsoft Entra issuer, the identity of a service connection must be a single-tenant ' +
            'app registration or a managed identity; a multitenant app is refused. Use a single-tenant ' +
            'app registration or a user-assigned managed identity for the connection.',
        AADSTS700223: 'Workload identity federation is turned off for this identity or tenant. Ask a tenant ' +
            `administrator to allow federated credentials for issuer '${presented.issuer}'.`,
        AADSTS700238: 'A tenant policy restricts which issuers a federated credential may trust. Ask a tenant ' +
            `administrator to allow issuer '${presented.issuer}'.`,
        AADSTS700016: `Application ${clientId} was not found in the tenant: check the service connection's ` +
            'service principal (client) id and tenant id.',
        AADSTS700024: 'The ID token was outside its validity period (Azure DevOps issues tokens for about 5-10 ' +
            'minutes); re-run the job, and check the agent\u2019s clock.'
    };
    return advice[code];
}

;// CONCATENATED MODULE: ./src/auth/jwt.ts
/** The claims of a JWT, decoded from its payload without verifying it. Never logs the token. */
function decodeJwtClaims(token) {
    const parts = token.split('.');
    if (parts.length < 2)
        throw new Error('The access token is not a JWT.');
    try {
        const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
        if (typeof claims !== 'object' || claims === null)
            throw new Error('not an object');
        return claims;
    }
    catch {
        throw new Error('The access token payload could not be decoded.');
    }
}
function stringClaim(claims, name) {
    const value = claims[name];
    return typeof value === 'string' ? value : undefined;
}

;// CONCATENATED MODULE: ./src/auth/credential.ts





/**
 * The credential for `auth-type`. Every token it hands out is masked in the log. With `oidc` the
 * client assertion is a GitHub ID token fetched afresh each time Entra ID is asked for a token:
 * an ID token lives about 5 minutes, a run can last an hour.
 */
function createCredential(setup) {
    const { inputs, cloud, runner } = setup;
    const options = { authorityHost: cloud.authorityHost, ...(0,http/* transportOptions */.wL)(setup.transport) };
    const { clientId, tenantId, audience } = inputs.auth;
    switch (inputs.auth.type) {
        case 'oidc': {
            const presented = new FederatedAssertion(runner, audience);
            if (setup.firstIdToken)
                presented.startWith(setup.firstIdToken);
            const credential = new dist_esm/* ClientAssertionCredential */.XI(tenantId ?? '', clientId ?? '', () => presented.fetch(), options);
            return new MaskingCredential(credential, runner, error => presented.explain(error, clientId ?? ''), Date.now, undefined, tenantId);
        }
        case 'azure-cli':
            return new MaskingCredential(new dist_esm/* AzureCliCredential */.nG({ tenantId }), runner);
        case 'credential-chain': {
            const chain = [new dist_esm/* EnvironmentCredential */.lp(options)];
            if (process.env.AZURE_FEDERATED_TOKEN_FILE) {
                chain.push(new dist_esm/* WorkloadIdentityCredential */.R9({ ...options, clientId, tenantId }));
            }
            chain.push(clientId
                ? new dist_esm/* ManagedIdentityCredential */.NC({ ...options, clientId })
                : new dist_esm/* ManagedIdentityCredential */.NC(options));
            chain.push(new dist_esm/* AzureCliCredential */.nG({ tenantId }));
            return new MaskingCredential(new dist_esm/* ChainedTokenCredential */.Rk(...chain), runner);
        }
    }
}
/**
 * Fetches GitHub ID tokens and remembers the claims of the last one for error messages. MSAL asks
 * for the assertion twice while acquiring one access token; a token fetched moments ago serves both.
 */
class FederatedAssertion {
    runner;
    audience;
    now;
    reuseWithinMs;
    claims;
    last;
    first;
    pending;
    constructor(runner, audience, now = Date.now, reuseWithinMs = 2_000) {
        this.runner = runner;
        this.audience = audience;
        this.now = now;
        this.reuseWithinMs = reuseWithinMs;
    }
    /** An ID token already asked for, to be taken by the first fetch instead of asking again. */
    startWith(token) {
        token.catch(() => { });
        this.first = token;
    }
    /** Callers at the same moment (the access tokens asked for side by side) share one ID token. */
    async fetch() {
        if (this.last && this.reusable(this.last))
            return this.last.token;
        this.pending ??= this.fetchFresh().finally(() => (this.pending = undefined));
        return this.pending;
    }
    async fetchFresh() {
        let token;
        const first = this.first;
        this.first = undefined;
        try {
            token = await (first ?? this.runner.getIdToken(this.audience));
        }
        catch (error) {
            // A runner that explained the failure itself (Azure Pipelines) knows better what to do.
            if (error instanceof errors/* ActionError */.lZ)
                throw error;
            throw new errors/* ActionError */.lZ(`Could not get an OIDC ID token from the runner: ${(0,errors/* messageOf */.bD)(error)}. ` +
                'The workflow (or job) needs `permissions: id-token: write`.');
        }
        this.runner.setSecret(token);
        try {
            this.claims = decodeJwtClaims(token);
        }
        catch {
            this.claims = undefined;
        }
        const exp = this.claims?.exp;
        this.last = {
            token,
            at: this.now(),
            expiresAt: typeof exp === 'number' ? exp * 1000 : undefined
        };
        return token;
    }
    /**
     * Fetched moments ago and still in the first half of its life: Entra ID checks it a little later,
     * and an ID token can be short-lived (GitHub's live about 5 minutes, test tokens seconds).
     */
    reusable(last) {
        const now = this.now();
        if (now - last.at >= this.reuseWithinMs)
            return false;
        return last.expiresAt === undefined || last.expiresAt - now > (last.expiresAt - last.at) / 2;
    }
    /** Turns Entra ID's federation errors into a message that shows what was presented. */
    explain(error, clientId) {
        const text = (0,errors/* messageOf */.bD)(error);
        const code = /AADSTS\d+/.exec(text)?.[0];
        if (!code)
            return undefined;
        const claims = this.claims;
        const presented = claims
            ? `The ID token presented issuer '${stringClaim(claims, 'iss') ?? '?'}', subject ` +
                `'${stringClaim(claims, 'sub') ?? '?'}' and audience '${audienceOf(claims)}'. `
            : '';
        const fromAzureDevOps = claims &&
            azureDevOpsAdvice(code, {
                issuer: stringClaim(claims, 'iss') ?? '?',
                subject: stringClaim(claims, 'sub') ?? '?',
                audience: audienceOf(claims)
            }, clientId);
        const advice = {
            AADSTS700213: `No federated credential of application ${clientId} matches. Add one with exactly that issuer, ` +
                'subject and audience (the subject comparison is case-sensitive).',
            AADSTS700211: `The issuer is not configured on any federated credential of application ${clientId}.`,
            AADSTS700024: 'The ID token was outside its validity period; re-run the job.',
            AADSTS700016: `Application ${clientId} was not found in the tenant: check client-id and tenant-id.`,
            AADSTS70021: `No federated credential of application ${clientId} matches the presented assertion.`
        };
        return new errors/* ActionError */.lZ(`Microsoft Entra ID refused the sign-in (${code}). ${presented}${fromAzureDevOps ?? advice[code] ?? ''}\n${text}`.trim());
    }
}
function audienceOf(claims) {
    const aud = claims.aud;
    return Array.isArray(aud) ? aud.join(', ') : typeof aud === 'string' ? aud : '?';
}
/**
 * Hands out one access token per scope until it nears expiry (so a new ID token is fetched only
 * when a new access token is really needed), masks every token with the runner, and rewrites
 * sign-in errors into useful ones.
 */
class MaskingCredential {
    inner;
    runner;
    explain;
    now;
    refreshBeforeMs;
    homeTenantId;
    tokens = new Map();
    pending = new Map();
    masked = new Set();
    constructor(inner, runner, explain = () => undefined, now = Date.now, refreshBeforeMs = 5 * 60_000, 
    /** The tenant the credential signs in to: a challenge that names it is no other tenant. */
    homeTenantId) {
        this.inner = inner;
        this.runner = runner;
        this.explain = explain;
        this.now = now;
        this.refreshBeforeMs = refreshBeforeMs;
        this.homeTenantId = homeTenantId;
    }
    async getToken(scopes, options) {
        // Claims challenges and other tenants always go to the inner credential.
        if (options?.claims || this.otherTenant(options?.tenantId))
            return this.acquire(scopes, options);
        const key = [scopes].flat().join(' ');
        const cached = this.tokens.get(key);
        if (cached && cached.expiresOnTimestamp - this.now() > this.refreshBeforeMs)
            return cached;
        let pending = this.pending.get(key);
        if (!pending) {
            pending = this.acquire(scopes, options).finally(() => this.pending.delete(key));
            this.pending.set(key, pending);
        }
        const token = await pending;
        if (token)
            this.tokens.set(key, token);
        return token;
    }
    otherTenant(tenantId) {
        return !!tenantId && tenantId.toLowerCase() !== this.homeTenantId?.toLowerCase();
    }
    async acquire(scopes, options) {
        let token;
        try {
            token = await this.inner.getToken(scopes, options);
        }
        catch (error) {
            throw this.explain(error) ?? error;
        }
        if (token?.token && !this.masked.has(token.token)) {
            this.masked.add(token.token);
            this.runner.setSecret(token.token);
        }
        return token;
    }
}

;// CONCATENATED MODULE: ./src/auth/principal.ts



/**
 * Who is signed in, from the `oid` and `tid` claims of an ARM access token. Graph's /me works only
 * for users, and a pipeline identity often may not read the directory at all.
 */
async function signedInPrincipal(credential, cloud, signal) {
    const token = await credential.getToken((0,src_cloud/* scopeOf */.Od)(cloud.resourceManager), { abortSignal: signal });
    if (!token?.token)
        throw new errors/* ActionError */.lZ('Signing in to Azure returned no access token.');
    const claims = decodeJwtClaims(token.token);
    const objectId = stringClaim(claims, 'oid');
    const tenantId = stringClaim(claims, 'tid');
    if (!objectId || !tenantId) {
        throw new errors/* ActionError */.lZ('The access token has no oid/tid claim, so the signed-in principal is unknown.');
    }
    return { objectId: objectId.toLowerCase(), tenantId: tenantId.toLowerCase() };
}

;// CONCATENATED MODULE: ./src/auth/token-warmup.ts

/**
 * Asks for the access tokens the first reads need alongside ARM's at sign-in: each is an exchange
 * of its own with Entra ID, which would otherwise wait for the read that needs it. The credential
 * keeps them for those reads; a refusal here is left to the read to report.
 */
function warmTokens(credential, cloud, inputs, signal) {
    const scopes = [(0,src_cloud/* scopeOf */.Od)(cloud.managedHsmResource)];
    if (usesFirstParty(inputs))
        scopes.push((0,src_cloud/* scopeOf */.Od)(cloud.graph));
    for (const scope of scopes)
        credential.getToken(scope, { abortSignal: signal }).catch(() => { });
}
/** Whether the run looks up the Azure Cosmos DB first-party principal (in Microsoft Graph). */
function usesFirstParty({ identity }) {
    return (identity.mode === 'first-party' ||
        (identity.mode === 'system-assigned' && identity.bootstrap === 'first-party'));
}

;// CONCATENATED MODULE: ./src/auth/sign-in.ts









/**
 * Starts the token exchanges for every audience the first reads need. The action starts it as
 * soon as it has its inputs, so that the exchanges travel while the Azure SDKs load.
 */
function startSignIn(setup) {
    const { inputs, signal } = setup;
    if (setup.sdkLog)
        sanitizeSdkLog(setup.sdkLog);
    const cloud = (0,src_cloud/* getCloud */.ED)(inputs.environment);
    const credential = setup.credential ??
        createCredential({
            inputs,
            cloud,
            runner: setup.runner,
            transport: { ...transport/* defaultTransport */.JT, ...setup.transport },
            firstIdToken: setup.firstIdToken
        });
    const timeline = new src_timeline/* Timeline */.Kf(setup.clock ?? clock/* systemClock */.m);
    const principal = timeline.within(names/* Step */.p.SignIn, () => {
        warmTokens(credential, cloud, inputs, signal);
        return signedInPrincipal(credential, cloud, signal);
    });
    // Its failure is reported where the run awaits it (the sign-in step).
    principal.catch(() => { });
    const firstStep = setup.firstIdToken ?? principal;
    const underway = firstStep.then(() => true, () => false);
    return { credential, principal, timeline, underway };
}


/***/ }),

/***/ 7743:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Vs: () => (/* binding */ retryAfterMs),
/* harmony export */   f_: () => (/* binding */ attemptTimeoutPolicy),
/* harmony export */   jj: () => (/* binding */ proxyKeepAlivePolicy),
/* harmony export */   wL: () => (/* binding */ transportOptions),
/* harmony export */   wZ: () => (/* binding */ timelinePolicy),
/* harmony export */   xf: () => (/* binding */ pollAsking)
/* harmony export */ });
/* unused harmony export isNonIdempotent */
/* harmony import */ var node_async_hooks__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6698);
/* harmony import */ var node_async_hooks__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_async_hooks__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var https_proxy_agent__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3669);
/* harmony import */ var https_proxy_agent__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(https_proxy_agent__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var _azure_core_rest_pipeline__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(1818);
/* harmony import */ var _timeline_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(1472);




const userAgentPrefix = 'cosmos-cmk-hsm-action';
/** Client options shared by every SDK client (ARM, Key Vault, identity). */
function transportOptions(settings) {
    return {
        retryOptions: {
            maxRetries: settings.maxRetries,
            retryDelayInMs: settings.retryDelayMs,
            maxRetryDelayInMs: settings.maxRetryDelayMs
        },
        additionalPolicies: [
            { policy: pollAnswerPolicy(), position: 'perCall' },
            { policy: timelinePolicy(), position: 'perRetry' },
            { policy: attemptTimeoutPolicy(settings), position: 'perRetry' },
            { policy: proxyKeepAlivePolicy(), position: 'perRetry' }
        ],
        userAgentOptions: { userAgentPrefix }
    };
}
const proxyKeepAlivePolicyName = 'proxyKeepAlive';
/**
 * A proxy agent for https targets only, that keeps its tunnels open between requests. agent-base
 * tells an https request from an http one by looking for Node's https module in the call stack,
 * which is not there when Node names a new socket for its pool: each tunnel was pooled under an
 * http name that no later request asks for, and never used twice.
 */
class KeptAliveProxyAgent extends https_proxy_agent__WEBPACK_IMPORTED_MODULE_1__.HttpsProxyAgent {
    constructor(proxy) {
        super(proxy, { keepAlive: true });
    }
    isSecureEndpoint() {
        return true;
    }
}
const keptAliveProxyAgents = new Map();
/**
 * Runs below the SDK's proxy policy, once per attempt. That policy gives each client an agent that
 * opens a new CONNECT tunnel and TLS session for every request (HTTPS_PROXY, or an Azure Pipelines
 * agent's proxy), so each request paid a handshake through the proxy. The proxy it chose stays
 * (NO_PROXY is still the SDK's to apply); for an https target its agent is swapped for one per
 * proxy, shared by every client, that keeps its connections open.
 */
function proxyKeepAlivePolicy(agents = keptAliveProxyAgents) {
    return {
        name: proxyKeepAlivePolicyName,
        sendRequest(request, next) {
            const chosen = request.agent;
            if (chosen instanceof https_proxy_agent__WEBPACK_IMPORTED_MODULE_1__.HttpsProxyAgent && new URL(request.url).protocol === 'https:') {
                const proxy = chosen.proxy.href;
                let agent = agents.get(proxy);
                if (!agent) {
                    agent = new KeptAliveProxyAgent(proxy);
                    agents.set(proxy, agent);
                }
                request.agent = agent;
            }
            return next(request);
        }
    };
}
const transportErrorCodes = new Set([
    'ECONNRESET',
    'ECONNABORTED',
    'EPIPE',
    'ETIMEDOUT',
    'ESOCKETTIMEDOUT',
    'EAI_AGAIN',
    'ERR_STREAM_PREMATURE_CLOSE',
    'UND_ERR_SOCKET'
]);
/**
 * Writes whose blind repetition is not harmless, so that the step observes before it repeats
 * them: a second key creation makes a second key version, a second security domain download
 * starts over, and a repeated account write or role assignment may meet its own first attempt
 * (a held lock, a conflict) instead of telling whether it landed.
 */
function isNonIdempotent(request) {
    const path = new URL(request.url).pathname;
    switch (request.method) {
        case 'POST':
            return /\/keys\/[^/]+\/create$|\/securitydomain\/download$/i.test(path);
        case 'PUT':
            return /\/databaseAccounts\/[^/]+$|\/roleAssignments\/[^/]+$/i.test(path);
        case 'PATCH':
            return /\/databaseAccounts\/[^/]+$/i.test(path);
        default:
            return false;
    }
}
const attemptTimeoutPolicyName = 'attemptTimeout';
/**
 * Runs below the retry policy, once per attempt: bounds the attempt with its own timer (cleared as
 * soon as the attempt ends, so no timer outlives it) and turns a timed-out or cut-off attempt into
 * the transport error the retry policy retries. For a non-idempotent request an ambiguous failure
 * is surfaced as `OutcomeUnknown` instead, so that the caller observes before trying again.
 */
function attemptTimeoutPolicy(settings) {
    return {
        name: attemptTimeoutPolicyName,
        async sendRequest(request, next) {
            const read = request.method === 'GET' || request.method === 'HEAD';
            const timeoutMs = read ? settings.readTimeoutMs : settings.writeTimeoutMs;
            const outer = request.abortSignal;
            const attempt = new AbortController();
            let timedOut = false;
            const timer = setTimeout(() => {
                timedOut = true;
                attempt.abort();
            }, timeoutMs);
            timer.unref?.();
            const forward = () => attempt.abort();
            if (outer?.aborted)
                attempt.abort();
            outer?.addEventListener('abort', forward, { once: true });
            request.abortSignal = attempt.signal;
            try {
                return await next(request);
            }
            catch (error) {
                if (outer?.aborted)
                    throw error;
                const cutOff = (0,_azure_core_rest_pipeline__WEBPACK_IMPORTED_MODULE_2__/* .isRestError */ .T0)(error) &&
                    (transportErrorCodes.has(error.code ?? '') ||
                        (error.code === _azure_core_rest_pipeline__WEBPACK_IMPORTED_MODULE_2__/* .RestError */ .pj.PARSE_ERROR && /reading response/i.test(error.message)));
                if (!timedOut && !cutOff)
                    throw error;
                const what = timedOut ? `no response within ${timeoutMs} ms` : error.message;
                if (isNonIdempotent(request)) {
                    throw new _azure_core_rest_pipeline__WEBPACK_IMPORTED_MODULE_2__/* .RestError */ .pj(`The outcome of ${request.method} is unknown: ${what}`, {
                        code: 'OutcomeUnknown',
                        request
                    });
                }
                throw new _azure_core_rest_pipeline__WEBPACK_IMPORTED_MODULE_2__/* .RestError */ .pj(`Request attempt failed: ${what}`, {
                    code: timedOut ? 'ETIMEDOUT' : 'ECONNRESET',
                    request
                });
            }
            finally {
                clearTimeout(timer);
                outer?.removeEventListener('abort', forward);
                request.abortSignal = outer;
            }
        }
    };
}
const timelinePolicyName = 'timeline';
/**
 * Runs below the retry policy, once per attempt: puts each attempt on the run's timeline as a read
 * or a write of the step that sent it, and a 429 answer as throttling until the next attempt (or
 * the step's end, when the retry policy gives up).
 */
function timelinePolicy() {
    const throttled = new WeakMap();
    return {
        name: timelinePolicyName,
        async sendRequest(request, next) {
            throttled.get(request)?.();
            throttled.delete(request);
            const label = `${request.method} ${new URL(request.url).pathname}`;
            const end = (0,_timeline_js__WEBPACK_IMPORTED_MODULE_3__/* .beginSpan */ .eT)(changesAzure(request) ? 'write' : 'read', label);
            let response;
            try {
                response = await next(request);
            }
            finally {
                end?.();
            }
            if (response.status === 429) {
                const wait = (0,_timeline_js__WEBPACK_IMPORTED_MODULE_3__/* .beginLingeringSpan */ .LW)('throttling', label);
                if (wait)
                    throttled.set(request, wait);
            }
            return response;
        }
    };
}
/** A write, as the timeline counts it: any method but GET and HEAD, except a token request. */
function changesAzure(request) {
    if (request.method === 'GET' || request.method === 'HEAD')
        return false;
    return !/\/oauth2\/(v2\.0\/)?token$/i.test(new URL(request.url).pathname);
}
const pollAnswers = new node_async_hooks__WEBPACK_IMPORTED_MODULE_0__.AsyncLocalStorage();
/**
 * Sends one poll of a long-running operation and answers the pause its last response asked for
 * (after the SDK's own retries): the SDK's poller keeps the Retry-After of a poll to itself.
 */
async function pollAsking(poll) {
    const answer = {};
    await pollAnswers.run(answer, poll);
    return answer.retryAfterMs;
}
function pollAnswerPolicy() {
    return {
        name: 'pollAnswer',
        async sendRequest(request, next) {
            const response = await next(request);
            const answer = pollAnswers.getStore();
            if (answer)
                answer.retryAfterMs = retryAfterMs(response.headers);
            return response;
        }
    };
}
/** The pause an answer asks for: retry-after-ms, x-ms-retry-after-ms, or Retry-After (seconds or a date). */
function retryAfterMs(headers) {
    for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
        const ms = Number(headers.get(name));
        if (headers.get(name) && Number.isFinite(ms) && ms >= 0)
            return ms;
    }
    const value = headers.get('retry-after')?.trim();
    if (!value)
        return undefined;
    if (/^\d+$/.test(value))
        return Number(value) * 1000;
    const at = Date.parse(value);
    return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}


/***/ })

};
