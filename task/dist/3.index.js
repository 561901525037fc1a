export const id = 3;
export const ids = [3];
export const modules = {

/***/ 4003:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  runProvisioning: () => (/* binding */ runProvisioning)
});

// EXTERNAL MODULE: ./src/auth/sign-in.ts + 6 modules
var sign_in = __webpack_require__(9889);
// EXTERNAL MODULE: ./node_modules/@azure/arm-cosmosdb/dist/esm/index.js + 96 modules
var esm = __webpack_require__(9386);
// EXTERNAL MODULE: ./node_modules/@azure/arm-keyvault/dist/esm/index.js + 35 modules
var dist_esm = __webpack_require__(4950);
// EXTERNAL MODULE: ./node_modules/@azure/arm-msi/dist/esm/index.js + 10 modules
var arm_msi_dist_esm = __webpack_require__(4361);
// EXTERNAL MODULE: ./node_modules/@azure/arm-resources/dist/esm/index.js + 24 modules
var arm_resources_dist_esm = __webpack_require__(6033);
// EXTERNAL MODULE: ./src/cloud.ts
var src_cloud = __webpack_require__(1486);
// EXTERNAL MODULE: external "node:async_hooks"
var external_node_async_hooks_ = __webpack_require__(6698);
;// CONCATENATED MODULE: ./src/concurrency.ts

/**
 * `work` for every item, at most `limit` at a time, answers in the items' order. The first
 * failure rejects once every started item has settled (so none is left running unseen).
 */
async function mapLimited(items, limit, work) {
    const settled = await settleLimited(items, limit, work);
    const failed = settled.find(s => s.status === 'rejected');
    if (failed)
        throw failed.reason;
    return settled.map(s => s.value);
}
/** `work` for every item, at most `limit` at a time; every outcome, in the items' order. */
async function settleLimited(items, limit, work) {
    const results = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const index = next++;
            try {
                results[index] = { status: 'fulfilled', value: await work(items[index], index) };
            }
            catch (reason) {
                results[index] = { status: 'rejected', reason };
            }
        }
    };
    const workers = Math.max(1, Math.min(limit, items.length));
    await Promise.all(Array.from({ length: workers }, worker));
    return results;
}
/** Places for work, taken in the order asked for. */
class Slots {
    free;
    waiting = [];
    constructor(size) {
        this.free = Math.max(1, size);
    }
    async take() {
        if (this.free > 0) {
            this.free--;
            return;
        }
        await new Promise(resolve => this.waiting.push(resolve));
    }
    give() {
        const next = this.waiting.shift();
        if (next)
            next();
        else
            this.free++;
    }
    /** A holder of one place, which it gives up while it waits (see Turn). */
    turn() {
        return new Turn(this);
    }
}
/**
 * One worker's place: taken before its work, given to the next worker while it only waits for
 * something else (a long-running operation, a propagation), taken again after.
 */
class Turn {
    slots;
    held = false;
    constructor(slots) {
        this.slots = slots;
    }
    async take() {
        await this.slots.take();
        this.held = true;
    }
    give() {
        if (!this.held)
            return;
        this.held = false;
        this.slots.give();
    }
    /** `waiting` with the place given up meanwhile; a wait within a wait keeps nothing to give. */
    async during(waiting) {
        if (!this.held)
            return waiting;
        this.give();
        try {
            return await waiting;
        }
        finally {
            await this.take();
        }
    }
}
const turns = new external_node_async_hooks_.AsyncLocalStorage();
/** Runs `work` as the holder of `turn`: waits within it (see whileWaiting) give the place up. */
function inTurn(turn, work) {
    return turns.run(turn, work);
}
/**
 * A wait for Azure (a long-running operation after its starting request was answered, a
 * propagation): the work running it gives its place to the next worker meanwhile, if it holds one.
 */
function whileWaiting(waiting) {
    const turn = turns.getStore();
    return turn ? turn.during(waiting()) : waiting();
}

// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(3916);
// EXTERNAL MODULE: ./src/clock.ts
var src_clock = __webpack_require__(9373);
;// CONCATENATED MODULE: ./src/azure/account-watch.ts

/** Lists in a row that may miss an account the creation of which was accepted, before it is handed back. */
const MISSES_BEFORE_HANDING_BACK = 3;
/**
 * Creations of several Cosmos DB accounts at once, seen through one list of their resource group
 * per pause instead of one poll of each creation's operation. Azure Cosmos DB's operations send
 * no Retry-After, so each would be polled at the transport's pace: for a fleet of 50, 50
 * requests per pause where one list answers for all. ARM's outcome of a PUT is the resource's
 * provisioningState; a creation that failed, an account the list keeps missing, or a list that
 * fails is handed back (`undefined`) to be polled on its own operation, whose answer says why.
 */
class AccountWatch {
    list;
    pace;
    signal;
    clock;
    waiters = new Set();
    running = false;
    constructor(list, pace, signal, clock = src_clock/* systemClock */.m) {
        this.list = list;
        this.pace = pace;
        this.signal = signal;
        this.clock = clock;
    }
    /** The account once its creation has Succeeded, or `undefined`: its operation will tell. */
    until(resourceGroup, name, firstAfterMs = 0) {
        return new Promise((resolve, reject) => {
            if (this.signal?.aborted)
                return reject(this.signal.reason);
            const now = this.clock.now();
            this.waiters.add({
                resourceGroup,
                name,
                notBefore: now + Math.max(firstAfterMs, this.pace(0)),
                since: now,
                misses: 0,
                resolve,
                reject
            });
            if (this.running)
                return;
            this.running = true;
            this.watch().catch((error) => {
                const reason = this.signal?.aborted ? this.signal.reason : error;
                for (const waiter of this.waiters)
                    waiter.reject(reason);
                this.waiters.clear();
            });
        });
    }
    async watch() {
        try {
            await this.lookUntilNoneWait();
        }
        finally {
            this.running = false;
        }
    }
    async lookUntilNoneWait() {
        while (this.waiters.size) {
            const due = Math.min(...[...this.waiters].map(w => w.notBefore));
            const pause = Math.max(0, due - this.clock.now());
            if (pause)
                await this.clock.sleep(pause, this.signal);
            const now = this.clock.now();
            const ready = [...this.waiters].filter(w => w.notBefore <= now);
            const groups = new Set(ready.map(w => w.resourceGroup.toLowerCase()));
            await Promise.all([...groups].map(group => this.look(group, ready)));
        }
    }
    async look(group, ready) {
        const waiting = ready.filter(w => w.resourceGroup.toLowerCase() === group);
        let listed;
        try {
            listed = await this.list(waiting[0].resourceGroup);
        }
        catch (error) {
            if (this.signal?.aborted)
                throw error;
            for (const waiter of waiting)
                this.handBack(waiter);
            return;
        }
        const byName = new Map(listed.map(a => [(a.name ?? '').toLowerCase(), a]));
        for (const waiter of waiting) {
            const account = byName.get(waiter.name.toLowerCase());
            const state = account?.provisioningState?.toLowerCase();
            if (account && state === 'succeeded')
                this.finish(waiter, account);
            else if (!account && ++waiter.misses >= MISSES_BEFORE_HANDING_BACK)
                this.handBack(waiter);
            else if (state === 'failed' || state === 'canceled')
                this.handBack(waiter);
            else
                waiter.notBefore = this.clock.now() + this.pace(this.clock.now() - waiter.since);
        }
    }
    finish(waiter, account) {
        this.waiters.delete(waiter);
        waiter.resolve(account);
    }
    handBack(waiter) {
        this.waiters.delete(waiter);
        waiter.resolve(undefined);
    }
}

;// CONCATENATED MODULE: ./src/azure/operation-end.ts

/**
 * The end of a started operation. Each poll waits for the Retry-After the previous answer asked
 * for (the first poll too, which core-lro would send at once), or for the pace's pause.
 */
async function operationEnd(poller, schedule) {
    const { firstPollAfterMs, pace, seenElsewhere, signal, clock = src_clock/* systemClock */.m } = schedule;
    const started = clock.now();
    let asked = firstPollAfterMs;
    let pollNow = false;
    if (!poller.isDone && seenElsewhere) {
        const seen = await seenElsewhere(firstPollAfterMs);
        if (seen)
            return seen;
        pollNow = true;
    }
    let polledAt = started;
    while (!poller.isDone) {
        // A Retry-After counts from the answer; the pace from when the last poll was sent.
        if (!pollNow) {
            const now = clock.now();
            await clock.sleep(Math.max(0, asked || pace(now - started) - (now - polledAt)), signal);
        }
        pollNow = false;
        polledAt = clock.now();
        asked = await schedule.poll();
    }
    return poller.pollUntilDone({ abortSignal: signal });
}

// EXTERNAL MODULE: ./src/azure/http.ts
var http = __webpack_require__(7743);
// EXTERNAL MODULE: ./src/azure/transport.ts
var azure_transport = __webpack_require__(6258);
;// CONCATENATED MODULE: ./src/azure/arm.ts











function typeSpecOptions(setup) {
    return {
        ...(0,http/* transportOptions */.wL)(setup.transport),
        endpoint: setup.cloud.resourceManager,
        credentials: { scopes: [(0,src_cloud/* scopeOf */.Od)(setup.cloud.resourceManager)] }
    };
}
/** `West Europe` as the programmatic `westeurope`. */
function regionName(displayName) {
    return displayName.replace(/\s+/g, '').toLowerCase();
}
/** A client of the run's subscription, and the options of its long-running operations. */
function armClient(Client, setup) {
    return {
        client: new Client(setup.credential, setup.subscriptionId, typeSpecOptions(setup)),
        operation: () => longRunning(setup)
    };
}
/**
 * One long-running operation: the options of the request that starts it, and its end (see
 * operationEnd), where Azure asks for no pause, as Azure Cosmos DB's operations, polled at a pause
 * that grows with the time waited (pollPace).
 */
function longRunning(setup) {
    let firstPollAfterMs;
    let onStart;
    const pace = (0,azure_transport/* pollPace */.ND)(setup.transport);
    return {
        options: {
            abortSignal: setup.signal,
            // Called for the starting request only, not for the polls.
            onResponse: (response) => {
                firstPollAfterMs = (0,http/* retryAfterMs */.Vs)(response.headers);
                onStart?.(response);
            }
        },
        /** Also learns the starting request's answer. */
        onStart(callback) {
            onStart = callback;
            return this;
        },
        /** Its end; `seenElsewhere` may tell it first (a fleet's list, see AccountWatch). */
        async done(poller, seenElsewhere) {
            await poller.submitted();
            return whileWaiting(() => operationEnd(poller, {
                poll: () => (0,http/* pollAsking */.xf)(() => poller.poll({ abortSignal: setup.signal })),
                firstPollAfterMs,
                pace,
                seenElsewhere,
                signal: setup.signal
            }));
        }
    };
}
/** A read in a namespace that is not registered yet cannot find anything. */
function isAbsent(error) {
    return (0,errors/* isNotFound */.c4)(error) || (0,errors/* codeOf */.$N)(error) === 'MissingSubscriptionRegistration';
}
function createProvidersApi(setup) {
    const { client } = armClient(arm_resources_dist_esm/* ResourceManagementClient */.h0, setup);
    const options = { abortSignal: setup.signal };
    return {
        async get(namespace) {
            const provider = await client.providers.get(namespace, options);
            const locations = {};
            for (const type of provider.resourceTypes ?? []) {
                if (!type.resourceType || !type.locations?.length)
                    continue;
                locations[type.resourceType.toLowerCase()] = type.locations.map(regionName);
            }
            return {
                namespace: provider.namespace ?? namespace,
                registrationState: provider.registrationState ?? 'Unknown',
                locations
            };
        },
        async register(namespace) {
            const provider = await client.providers.register(namespace, options);
            return {
                namespace: provider.namespace ?? namespace,
                registrationState: provider.registrationState ?? 'Unknown'
            };
        }
    };
}
function createManagedHsmsApi(setup) {
    const { client, operation } = armClient(dist_esm/* KeyVaultManagementClient */.ch, setup);
    const { client: resources, operation: tagsOperation } = armClient(arm_resources_dist_esm/* ResourceManagementClient */.h0, setup);
    const updateTags = async (id, operation, tags) => {
        const lro = tagsOperation();
        await lro.done(resources.tagsOperations.updateAtScope(id, { operation, properties: { tags } }, lro.options));
    };
    return {
        mergeTags: (hsmId, tags) => updateTags(hsmId, 'Merge', tags),
        deleteTags: (hsmId, tags) => updateTags(hsmId, 'Delete', tags),
        async get(resourceGroup, name) {
            let status = 0;
            try {
                const hsm = await client.managedHsms.get(resourceGroup, name, {
                    abortSignal: setup.signal,
                    onResponse: response => {
                        status = response.status;
                    }
                });
                return status === 204 || !hsm?.id ? undefined : toHsmState(hsm);
            }
            catch (error) {
                // The spec allows 204 (no body) for "does not exist"; the deserializer trips over it.
                if (status === 204 || isAbsent(error))
                    return undefined;
                throw error;
            }
        },
        async create(resourceGroup, name, spec) {
            const lro = operation();
            const poller = client.managedHsms.createOrUpdate(resourceGroup, name, {
                location: spec.location,
                tags: spec.tags,
                sku: {
                    family: spec.skuName.startsWith('Custom_C') ? 'C' : 'B',
                    name: spec.skuName
                },
                properties: {
                    tenantId: spec.tenantId,
                    initialAdminObjectIds: spec.initialAdminObjectIds,
                    enableSoftDelete: true,
                    softDeleteRetentionInDays: spec.softDeleteRetentionInDays,
                    enablePurgeProtection: true,
                    createMode: 'default',
                    publicNetworkAccess: 'Enabled'
                }
            }, lro.options);
            return toHsmState(await lro.done(poller));
        },
        async enablePurgeProtection(resourceGroup, name) {
            const lro = operation();
            const poller = client.managedHsms.update(resourceGroup, name, { properties: { enablePurgeProtection: true } }, lro.options);
            return toHsmState(await lro.done(poller));
        },
        async getKey(resourceGroup, hsmName, keyName) {
            const key = await (0,errors/* unlessAbsent */.QY)(() => client.managedHsmKeys.get(resourceGroup, hsmName, keyName, { abortSignal: setup.signal }));
            return key && toKeyState(key);
        },
        async createKeyIfNotExist(resourceGroup, hsmName, keyName, spec) {
            const key = await client.managedHsmKeys.createIfNotExist(resourceGroup, hsmName, keyName, {
                tags: spec.tags,
                properties: {
                    kty: spec.kty,
                    keySize: spec.keySize,
                    keyOps: spec.keyOps,
                    attributes: { enabled: true }
                }
            }, { abortSignal: setup.signal });
            return toKeyState(key);
        }
    };
}
function toKeyState(key) {
    // ARM writes the default port into its key URIs (`:443`); the data plane's kid has none.
    const id = key.keyUriWithVersion ? new URL(key.keyUriWithVersion).href : '';
    const seconds = (value) => (value === undefined ? undefined : new Date(value * 1000));
    return {
        id,
        name: key.name ?? '',
        version: id.split('/').filter(Boolean).pop() ?? '',
        kty: key.kty ?? 'unknown',
        keySize: key.keySize,
        keyOps: key.keyOps ?? [],
        enabled: key.attributes?.enabled !== false,
        notBefore: seconds(key.attributes?.notBefore),
        expiresOn: seconds(key.attributes?.expires)
    };
}
function toHsmState(hsm) {
    const p = hsm.properties ?? {};
    return {
        id: hsm.id ?? '',
        name: hsm.name ?? '',
        location: hsm.location ?? '',
        hsmUri: p.hsmUri ?? '',
        provisioningState: p.provisioningState ?? 'Unknown',
        statusMessage: p.statusMessage,
        enableSoftDelete: p.enableSoftDelete !== false,
        enablePurgeProtection: p.enablePurgeProtection === true,
        softDeleteRetentionInDays: p.softDeleteRetentionInDays,
        activationStatus: p.securityDomainProperties?.activationStatus ?? 'Unknown',
        activationStatusMessage: p.securityDomainProperties?.activationStatusMessage,
        initialAdminObjectIds: p.initialAdminObjectIds ?? [],
        tags: hsm.tags ?? {}
    };
}
function createIdentitiesApi(setup) {
    const clients = new Map();
    const clientFor = (subscriptionId) => {
        let client = clients.get(subscriptionId);
        if (!client) {
            client = new arm_msi_dist_esm/* ManagedServiceIdentityClient */.Gs(setup.credential, subscriptionId, {
                ...(0,http/* transportOptions */.wL)(setup.transport),
                endpoint: setup.cloud.resourceManager,
                $host: setup.cloud.resourceManager,
                credentialScopes: [(0,src_cloud/* scopeOf */.Od)(setup.cloud.resourceManager)]
            });
            clients.set(subscriptionId, client);
        }
        return client;
    };
    return {
        async getUserAssigned(subscriptionId, resourceGroup, name) {
            const identity = await (0,errors/* unlessAbsent */.QY)(() => clientFor(subscriptionId).userAssignedIdentities.get(resourceGroup, name, {
                abortSignal: setup.signal
            }), isAbsent);
            return (identity && {
                id: identity.id ?? '',
                name: identity.name ?? name,
                principalId: identity.principalId ?? '',
                clientId: identity.clientId ?? ''
            });
        }
    };
}
/**
 * A fleet's list answers for all its accounts in one large response: its first pause is five times
 * an operation poll's (1 s by default), which keeps a fleet of 50 well within its memory.
 */
const LIST_PAUSE_FACTOR = 5;
/**
 * `watchCreations`: several accounts are created at once (a fleet), so their creations are seen
 * through one list of their resource group per interval (see AccountWatch).
 */
function createCosmosAccountsApi(setup, watchCreations = false) {
    const { client, operation } = armClient(esm/* CosmosDBManagementClient */.vq, setup);
    const watch = watchCreations
        ? new AccountWatch(async (resourceGroup) => {
            const accounts = [];
            const pages = client.databaseAccounts.listByResourceGroup(resourceGroup, {
                abortSignal: setup.signal
            });
            for await (const account of pages)
                accounts.push(account);
            return accounts;
        }, (0,azure_transport/* pollPace */.ND)({ pollIntervalMs: LIST_PAUSE_FACTOR * setup.transport.pollIntervalMs }), setup.signal)
        : undefined;
    return {
        async get(resourceGroup, name) {
            const account = await (0,errors/* unlessAbsent */.QY)(() => client.databaseAccounts.get(resourceGroup, name, { abortSignal: setup.signal }), isAbsent);
            return account && toAccountState(account);
        },
        async create(resourceGroup, name, spec, accepted) {
            const lro = operation().onStart(response => {
                if (!accepted || response.status < 200 || response.status > 202)
                    return;
                accepted({ systemPrincipalId: systemPrincipalOf(response.parsedBody) });
            });
            const poller = client.databaseAccounts.createOrUpdate(resourceGroup, name, {
                location: spec.location,
                tags: spec.tags,
                kind: spec.kind,
                identity: creationIdentity(spec),
                locations: spec.locations.map((locationName, failoverPriority) => ({
                    locationName,
                    failoverPriority,
                    isZoneRedundant: false
                })),
                databaseAccountOfferType: 'Standard',
                capabilities: spec.capabilities.map(capability => ({ name: capability })),
                keyVaultKeyUri: spec.keyVaultKeyUri,
                defaultIdentity: spec.defaultIdentity
            }, lro.options);
            return toAccountState(await lro.done(poller, watch && (after => watch.until(resourceGroup, name, after))));
        },
        async update(resourceGroup, name, patch) {
            const body = 'identity' in patch
                ? {
                    identity: {
                        type: patch.identity.type,
                        userAssignedIdentities: patch.identity.userAssignedIdentityIds.length
                            ? Object.fromEntries(patch.identity.userAssignedIdentityIds.map(id => [id, {}]))
                            : undefined
                    }
                }
                : 'keyVaultKeyUri' in patch
                    ? { keyVaultKeyUri: patch.keyVaultKeyUri }
                    : { defaultIdentity: patch.defaultIdentity };
            const lro = operation();
            return toAccountState(await lro.done(client.databaseAccounts.update(resourceGroup, name, body, lro.options)));
        },
        async delete(resourceGroup, name) {
            const lro = operation();
            await lro.done(client.databaseAccounts.delete(resourceGroup, name, lro.options));
        },
        async list() {
            const accounts = [];
            for await (const account of client.databaseAccounts.list({ abortSignal: setup.signal })) {
                accounts.push(toAccountState(account));
            }
            return accounts;
        }
    };
}
function systemPrincipalOf(body) {
    const principalId = body?.identity
        ?.principalId;
    return typeof principalId === 'string' && principalId ? principalId : undefined;
}
function creationIdentity(spec) {
    const userAssigned = spec.userAssignedIdentityId
        ? { [spec.userAssignedIdentityId]: {} }
        : undefined;
    if (spec.systemAssigned) {
        return userAssigned
            ? { type: 'SystemAssigned,UserAssigned', userAssignedIdentities: userAssigned }
            : { type: 'SystemAssigned' };
    }
    return userAssigned
        ? { type: 'UserAssigned', userAssignedIdentities: userAssigned }
        : undefined;
}
function toAccountState(account) {
    const identity = account.identity;
    return {
        id: account.id ?? '',
        name: account.name ?? '',
        location: account.location ?? '',
        kind: account.kind,
        capabilities: (account.capabilities ?? []).map(c => c.name ?? '').filter(Boolean),
        provisioningState: account.provisioningState,
        documentEndpoint: account.documentEndpoint,
        keyVaultKeyUri: account.keyVaultKeyUri,
        keyVaultKeyUriVersion: account.keyVaultKeyUriVersion,
        customerManagedKeyStatus: account.customerManagedKeyStatus,
        defaultIdentity: account.defaultIdentity,
        backupPolicyType: account.backupPolicy?.type,
        enableAnalyticalStorage: account.enableAnalyticalStorage,
        tags: account.tags ?? {},
        identity: {
            type: identity?.type ?? 'None',
            principalId: identity?.principalId,
            userAssignedIdentities: Object.fromEntries(Object.entries(identity?.userAssignedIdentities ?? {}).map(([id, value]) => [
                id,
                { principalId: value?.principalId, clientId: value?.clientId }
            ]))
        }
    };
}

// EXTERNAL MODULE: ./node_modules/@azure/core-rest-pipeline/dist/esm/index.js + 37 modules
var core_rest_pipeline_dist_esm = __webpack_require__(1818);
;// CONCATENATED MODULE: ./src/azure/rest.ts



/**
 * A small JSON client on @azure/core-rest-pipeline for the endpoints no installed SDK covers
 * (Managed HSM local RBAC and security domain, Microsoft Graph). Same retry and timeout settings
 * as the SDK clients; `auth` is the authentication policy of the service.
 */
function createJsonClient(options) {
    const { retryOptions, userAgentOptions } = (0,http/* transportOptions */.wL)(options.transport);
    const pipeline = (0,core_rest_pipeline_dist_esm/* createPipelineFromOptions */.Fp)({ retryOptions, userAgentOptions });
    pipeline.addPolicy(options.auth);
    pipeline.addPolicy((0,http/* timelinePolicy */.wZ)(), { afterPhase: 'Retry' });
    pipeline.addPolicy((0,http/* attemptTimeoutPolicy */.f_)(options.transport), { afterPhase: 'Retry' });
    pipeline.addPolicy((0,http/* proxyKeepAlivePolicy */.jj)(), { afterPhase: 'Retry' });
    const httpClient = options.httpClient ?? (0,core_rest_pipeline_dist_esm/* createDefaultHttpClient */.fl)();
    const base = options.baseUrl.replace(/\/+$/, '');
    return {
        async send(method, path, request = {}) {
            const query = [request.query, options.fixedQuery].filter(Boolean).join('&');
            const url = `${base}${path}${query ? `?${query}` : ''}`;
            const headers = (0,core_rest_pipeline_dist_esm/* createHttpHeaders */.Nc)({ accept: 'application/json' });
            if (request.body !== undefined)
                headers.set('content-type', 'application/json');
            const pipelineRequest = (0,core_rest_pipeline_dist_esm/* createPipelineRequest */.G6)({
                url,
                method: method,
                headers,
                body: request.body === undefined ? undefined : JSON.stringify(request.body),
                abortSignal: eitherSignal(options.signal, request.signal)
            });
            const response = await pipeline.sendRequest(httpClient, pipelineRequest);
            let body;
            if (response.bodyAsText) {
                try {
                    body = JSON.parse(response.bodyAsText);
                }
                catch {
                    body = undefined;
                }
            }
            if (response.status >= 400) {
                const error = body?.error;
                const restError = new core_rest_pipeline_dist_esm/* RestError */.pj(error?.message ?? `${method} ${path} answered HTTP ${response.status}`, { code: error?.code, statusCode: response.status, request: pipelineRequest, response });
                Object.assign(restError, { innerCode: error?.innererror?.code ?? error?.innerError?.code });
                throw restError;
            }
            return {
                status: response.status,
                body: body,
                headers: response.headers.toJSON()
            };
        }
    };
}
/** A JSON client of an Azure service that takes bearer tokens for its own base URL's scope. */
function createBearerJsonClient(setup, baseUrl, fixedQuery) {
    return createJsonClient({
        baseUrl,
        auth: (0,core_rest_pipeline_dist_esm/* bearerTokenAuthenticationPolicy */.N$)({
            credential: setup.credential,
            scopes: (0,src_cloud/* scopeOf */.Od)(baseUrl)
        }),
        transport: setup.transport,
        signal: setup.signal,
        fixedQuery
    });
}
/** Aborts when either signal does. */
function eitherSignal(a, b) {
    return a && b ? AbortSignal.any([a, b]) : (a ?? b);
}

;// CONCATENATED MODULE: ./src/azure/graph.ts


function createGraphApi(setup) {
    const client = createBearerJsonClient(setup, setup.cloud.graph);
    const select = { query: '$select=id,appId,displayName' };
    return {
        async servicePrincipalIdByAppId(appId) {
            const response = await (0,errors/* unlessAbsent */.QY)(() => client.send('GET', `/v1.0/servicePrincipals(appId='${encodeURIComponent(appId)}')`, select));
            return response?.body?.id?.toLowerCase();
        },
        async servicePrincipal(objectId) {
            const response = await (0,errors/* unlessAbsent */.QY)(() => client.send('GET', `/v1.0/servicePrincipals/${encodeURIComponent(objectId)}`, select));
            const sp = response?.body;
            return sp?.id
                ? {
                    id: sp.id.toLowerCase(),
                    appId: (sp.appId ?? '').toLowerCase(),
                    displayName: sp.displayName ?? ''
                }
                : undefined;
        }
    };
}

;// CONCATENATED MODULE: ./src/azure/permissions.ts

/** The version of `Permissions_ListForResourceGroup` / `Permissions_ListForResource`. */
const permissionsApiVersion = '2022-04-01';
/** ARM's answer to "what may the caller do at this scope" (no SDK of ours covers it). */
function createPermissionsApi(setup) {
    const client = createBearerJsonClient(setup, setup.cloud.resourceManager, `api-version=${permissionsApiVersion}`);
    return {
        async at(scope) {
            const permissions = [];
            let page = {
                path: `${scope.replace(/\/+$/, '')}/providers/Microsoft.Authorization/permissions`
            };
            while (page) {
                const response = await client.send('GET', page.path, { query: page.query });
                permissions.push(...(response.body?.value ?? []));
                page = nextPage(response.body?.nextLink);
            }
            return permissions.map(p => ({
                actions: p.actions ?? [],
                notActions: p.notActions ?? []
            }));
        }
    };
}
/** Whether the permissions allow an action (`*` matches any run of characters, without case). */
function allows(permissions, action) {
    const matches = (patterns) => patterns.some(pattern => globMatch(pattern, action));
    return permissions.some(p => matches(p.actions) && !matches(p.notActions));
}
function globMatch(pattern, value) {
    // `*` matches any characters; a whole `/*/` segment may also match none, as ARM reads
    // `.../userAssignedIdentities/*/assign/action` to cover `.../userAssignedIdentities/assign/action`.
    const source = pattern
        .split('/*/')
        .map(part => part
        .split('*')
        .map(piece => piece.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
        .join('.*'))
        .join('(?:/.*)?/');
    return new RegExp(`^${source}$`, 'i').test(value);
}
/** The next page's path and query; api-version is added by the client. */
function nextPage(nextLink) {
    if (!nextLink)
        return undefined;
    const url = new URL(nextLink);
    url.searchParams.delete('api-version');
    return { path: url.pathname, query: url.searchParams.toString() || undefined };
}

// EXTERNAL MODULE: ./node_modules/@azure/keyvault-common/dist/esm/index.js + 5 modules
var keyvault_common_dist_esm = __webpack_require__(357);
// EXTERNAL MODULE: ./node_modules/@azure/keyvault-keys/dist/esm/index.js + 37 modules
var keyvault_keys_dist_esm = __webpack_require__(1090);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
;// CONCATENATED MODULE: ./src/roles.ts

/** Managed HSM local RBAC built-in roles this action assigns. */
const hsmRoles = {
    administrator: { name: 'Managed HSM Administrator', id: 'a290e904-7015-4bba-90c8-60543313cdb4' },
    cryptoUser: { name: 'Managed HSM Crypto User', id: '21dbd100-6940-42c2-9190-5d6cb909625b' },
    cryptoServiceEncryptionUser: {
        name: 'Managed HSM Crypto Service Encryption User',
        id: '33413926-3206-4cdd-b39a-83574fe37a17'
    }
};
/** Built-in HSM roles that may not create role assignments (custom roles: unknown). */
const nonAssigningRoles = new Set([
    hsmRoles.cryptoUser.id,
    hsmRoles.cryptoServiceEncryptionUser.id,
    '515eb02d-2335-4d2d-92f2-b1cbdf9c3778', // Managed HSM Crypto Officer
    '2c18b078-7c48-4d3a-af88-5a3a1b3f82b3', // Managed HSM Crypto Auditor
    '7b127d3c-77bd-4e3e-bbe0-dbb8971fa7f8', // Managed HSM Backup
    '6efe6056-5259-49d2-8b3d-d3d73544b20b' // Managed HSM Restore
]);
function roleDefinitionId(role) {
    return `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${role.id}`;
}
/** The role GUID at the end of a role definition id, in lower case. */
function roleGuidOf(roleDefinitionIdValue) {
    return (roleDefinitionIdValue.split('/').pop() ?? '').toLowerCase();
}
/** Namespace of this action's role assignment names (a fixed, random UUID). */
const roleAssignmentNamespace = '6c1f4f3e-8b0a-4d55-9a43-0f6b2d7c9e15';
/**
 * The name of the assignment of `role` to `principalId` at `scope` on HSM `hsmName`: a name-based
 * UUID (version 5), so a re-run or a parallel run computes the same name and never duplicates it.
 */
function roleAssignmentName(hsmName, scope, roleGuid, principalId) {
    const key = [hsmName, normaliseScope(scope), roleGuid, principalId]
        .map(part => part.toLowerCase())
        .join('|');
    return uuidV5(key, roleAssignmentNamespace);
}
function uuidV5(name, namespace) {
    const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
    if (ns.length !== 16)
        throw new Error(`Invalid namespace UUID: ${namespace}`);
    const hash = (0,external_node_crypto_.createHash)('sha1').update(ns).update(name, 'utf8').digest();
    const bytes = hash.subarray(0, 16);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
/** `/`, `/keys`, `/keys/<name>`: one leading slash, no trailing one, no runs of slashes. */
function normaliseScope(scope) {
    const collapsed = `/${scope}`.replace(/\/+/g, '/').replace(/\/$/, '');
    return collapsed === '' ? '/' : collapsed;
}
/** Whether an assignment at `held` also covers `wanted` (`/` covers `/keys` covers `/keys/k`). */
function scopeCovers(held, wanted) {
    const h = normaliseScope(held).toLowerCase();
    const w = normaliseScope(wanted).toLowerCase();
    return h === '/' || h === w || w.startsWith(`${h}/`);
}

;// CONCATENATED MODULE: ./src/azure/hsm-data-plane.ts








/** The api-version @azure/keyvault-admin uses for local RBAC; the security domain accepts it too. */
const hsmAdminApiVersion = '7.6';
function createHsmDataPlane(setup) {
    // One pipeline serves RBAC and the security domain.
    const client = createJsonClient({
        baseUrl: setup.hsmUri,
        auth: hsmAuthentication(setup),
        transport: setup.transport,
        signal: setup.signal,
        fixedQuery: `api-version=${hsmAdminApiVersion}`
    });
    return {
        rbac: createHsmRbacApi(client),
        securityDomain: createSecurityDomainApi(client),
        keys: createHsmKeysApi(setup),
        settings: createSettingsApi(client)
    };
}
/**
 * An HSM under the cloud's Managed HSM domain takes the cloud's HSM token, sent with the first
 * request; any other host (a custom domain) names its resource in a challenge, which is answered
 * only after its domain is checked against the request's.
 */
function hsmAuthentication(setup) {
    const { cloud, credential } = setup;
    const host = new URL(setup.hsmUri).hostname.toLowerCase();
    if (cloud && host.endsWith(`.${cloud.managedHsmDnsSuffix}`)) {
        return (0,core_rest_pipeline_dist_esm/* bearerTokenAuthenticationPolicy */.N$)({
            credential,
            scopes: (0,src_cloud/* scopeOf */.Od)(cloud.managedHsmResource)
        });
    }
    return (0,keyvault_common_dist_esm/* keyVaultAuthenticationPolicy */.sO)(credential);
}
function createSettingsApi(client) {
    const path = (name) => `/settings/${encodeURIComponent(name)}`;
    return {
        async get(name) {
            const response = await (0,errors/* unlessAbsent */.QY)(() => client.send('GET', path(name)));
            return response?.body?.value;
        },
        async update(name, value) {
            await client.send('PATCH', path(name), { body: { value } });
        }
    };
}
function assignmentsPath(scope) {
    const s = normaliseScope(scope);
    return `${s === '/' ? '' : s}/providers/Microsoft.Authorization/roleAssignments`;
}
function definitionsPath(scope) {
    const s = normaliseScope(scope);
    return `${s === '/' ? '' : s}/providers/Microsoft.Authorization/roleDefinitions`;
}
function toDefinition(wire) {
    return { id: wire.id ?? '', name: wire.name ?? '', roleName: wire.properties?.roleName ?? '' };
}
function toAssignment(wire) {
    return {
        id: wire.id ?? '',
        name: wire.name ?? '',
        scope: normaliseScope(wire.properties?.scope ?? '/'),
        roleDefinitionId: wire.properties?.roleDefinitionId ?? '',
        principalId: (wire.properties?.principalId ?? '').toLowerCase()
    };
}
function createHsmRbacApi(client) {
    async function listAll(path, query, signal) {
        const items = [];
        let response = await client.send('GET', path, { query, signal });
        items.push(...(response.body?.value ?? []));
        let next = response.body?.nextLink;
        while (next) {
            const url = new URL(next);
            const nextQuery = url.search
                .replace(/^\?/, '')
                .replace(/(^|&)api-version=[^&]*/i, '')
                .replace(/^&/, '');
            response = await client.send('GET', url.pathname, { query: nextQuery, signal });
            items.push(...(response.body?.value ?? []));
            next = response.body?.nextLink;
        }
        return items;
    }
    return {
        async listForPrincipal(scope, principalId, options) {
            const filter = encodeURIComponent(`principalId eq '${principalId}'`);
            const wire = await listAll(assignmentsPath(scope), `$filter=${filter}`, options?.signal);
            return wire.map(toAssignment).filter(a => a.principalId === principalId.toLowerCase());
        },
        async get(scope, name) {
            const response = await (0,errors/* unlessAbsent */.QY)(() => client.send('GET', `${assignmentsPath(scope)}/${name}`));
            return response?.body ? toAssignment(response.body) : undefined;
        },
        async create(scope, name, roleDefinitionId, principalId) {
            const response = await client.send('PUT', `${assignmentsPath(scope)}/${name}`, {
                body: { properties: { roleDefinitionId, principalId } }
            });
            return toAssignment(response.body ?? {});
        },
        async delete(scope, name) {
            try {
                await client.send('DELETE', `${assignmentsPath(scope)}/${name}`);
            }
            catch (error) {
                if (!(0,errors/* isNotFound */.c4)(error))
                    throw error;
            }
        },
        async listRoleDefinitions(scope) {
            const wire = await listAll(definitionsPath(scope), '');
            return wire.map(toDefinition);
        },
        async getRoleDefinition(scope, name) {
            const response = await (0,errors/* unlessAbsent */.QY)(() => client.send('GET', `${definitionsPath(scope)}/${name}`));
            return response?.body ? toDefinition(response.body) : undefined;
        }
    };
}
function createSecurityDomainApi(client) {
    return {
        async download(certificates, quorum) {
            const response = await client.send('POST', '/securitydomain/download', {
                body: { certificates, required: quorum }
            });
            const value = response.body?.value;
            if (!value)
                throw new Error('The security domain download answered without a security domain.');
            return { value };
        },
        async downloadStatus() {
            try {
                const response = await client.send('GET', '/securitydomain/download/pending');
                if (!response.body?.status)
                    return undefined;
                return {
                    status: response.body.status,
                    statusDetails: response.body.status_details
                };
            }
            catch (error) {
                // No download was ever started on this HSM.
                const status = (0,errors/* statusOf */.c2)(error);
                if (status === 404 || status === 400)
                    return undefined;
                throw error;
            }
        }
    };
}
function createHsmKeysApi(setup) {
    const client = new keyvault_keys_dist_esm/* KeyClient */.xp(setup.hsmUri, setup.credential, (0,http/* transportOptions */.wL)(setup.transport));
    return {
        async get(name, options) {
            const key = await (0,errors/* unlessAbsent */.QY)(() => client.getKey(name, { abortSignal: eitherSignal(setup.signal, options?.signal) }));
            return key && hsm_data_plane_toKeyState(key);
        },
        async createRsa(name, size, keyOps, tags) {
            return hsm_data_plane_toKeyState(await client.createRsaKey(name, {
                hsm: true,
                keySize: size,
                keyOps: keyOps,
                tags,
                abortSignal: setup.signal
            }));
        },
        async getRotationPolicy(name) {
            const policy = await (0,errors/* unlessAbsent */.QY)(() => client.getKeyRotationPolicy(name, { abortSignal: setup.signal }));
            return policy?.id || policy?.lifetimeActions?.length ? fromWirePolicy(policy) : undefined;
        },
        async setRotationPolicy(name, policy) {
            const rotate = policy.rotateAfter
                ? { timeAfterCreate: policy.rotateAfter }
                : { timeBeforeExpiry: policy.rotateBeforeExpiry };
            const set = await client.updateKeyRotationPolicy(name, { lifetimeActions: [{ action: 'Rotate', ...rotate }], expiresIn: policy.expireAfter }, { abortSignal: setup.signal });
            return fromWirePolicy(set);
        },
        async rotate(name) {
            return hsm_data_plane_toKeyState(await client.rotateKey(name, { abortSignal: setup.signal }));
        },
        async versions(name) {
            const versions = [];
            for await (const properties of client.listPropertiesOfKeyVersions(name, {
                abortSignal: setup.signal
            })) {
                versions.push({
                    id: properties.id ?? '',
                    name,
                    version: properties.version ?? '',
                    kty: '',
                    keyOps: [],
                    enabled: properties.enabled !== false,
                    notBefore: properties.notBefore,
                    expiresOn: properties.expiresOn,
                    createdOn: properties.createdOn
                });
            }
            return versions.sort((a, b) => (a.createdOn?.getTime() ?? 0) - (b.createdOn?.getTime() ?? 0));
        }
    };
}
function fromWirePolicy(policy) {
    const rotate = policy.lifetimeActions?.find(a => a.action.toLowerCase() === 'rotate');
    return {
        rotateAfter: rotate?.timeAfterCreate,
        rotateBeforeExpiry: rotate?.timeBeforeExpiry,
        expireAfter: policy.expiresIn
    };
}
function hsm_data_plane_toKeyState(key) {
    const n = key.key?.n;
    let size;
    if (n && n.length) {
        let start = 0;
        while (start < n.length - 1 && n[start] === 0)
            start++;
        size = (n.length - start) * 8;
    }
    return {
        id: key.id ?? key.key?.kid ?? '',
        name: key.name,
        version: key.properties.version ?? '',
        kty: key.keyType ?? key.key?.kty ?? '',
        keySize: size,
        keyOps: key.keyOperations ?? key.key?.keyOps ?? [],
        enabled: key.properties.enabled !== false,
        notBefore: key.properties.notBefore,
        expiresOn: key.properties.expiresOn,
        createdOn: key.properties.createdOn
    };
}

;// CONCATENATED MODULE: ./src/azure/clients.ts




/** Builds every client once: one credential, one token per audience, reused connections. */
function createAzureApis(setup) {
    const dataPlanes = new Map();
    return {
        providers: createProvidersApi(setup),
        managedHsms: createManagedHsmsApi(setup),
        identities: createIdentitiesApi(setup),
        cosmos: createCosmosAccountsApi(setup, setup.fleet),
        graph: createGraphApi(setup),
        permissions: createPermissionsApi(setup),
        hsm(hsmUri) {
            const key = hsmUri.replace(/\/+$/, '').toLowerCase();
            let plane = dataPlanes.get(key);
            if (!plane) {
                plane = createHsmDataPlane({ ...setup, hsmUri: key });
                dataPlanes.set(key, plane);
            }
            return plane;
        }
    };
}

// EXTERNAL MODULE: ./src/inputs/settings.ts
var settings = __webpack_require__(900);
;// CONCATENATED MODULE: ./src/key-uri.ts

/**
 * Cosmos DB wants the versionless key URI without a trailing slash:
 * `https://<hsm>.managedhsm.azure.net/keys/<key>`.
 */
function versionlessKeyUri(uri) {
    const url = new URL(uri);
    const [keys, name] = url.pathname.split('/').filter(Boolean);
    if (keys?.toLowerCase() !== 'keys' || !name)
        throw new Error(`Not a key URI: ${uri}`);
    return `https://${url.host.toLowerCase()}/keys/${name}`;
}
function keyUriFor(hsmBaseUri, keyName) {
    return `${hsmBaseUri.replace(/\/+$/, '')}/keys/${keyName}`;
}
/** Whether a key URI names a specific version. */
function isVersioned(uri) {
    try {
        return new URL(uri).pathname.split('/').filter(Boolean).length > 2;
    }
    catch {
        return false;
    }
}
/** Same key: host compared case-insensitively, versions and trailing slashes ignored. */
function sameKey(a, b) {
    try {
        return versionlessKeyUri(a).toLowerCase() === versionlessKeyUri(b).toLowerCase();
    }
    catch {
        return false;
    }
}
/** Base URI of an HSM's data plane, without a trailing slash: ARM's `hsmUri` when known. */
function hsmBaseUri(cloud, hsmName, hsmUri) {
    return (hsmUri || (0,src_cloud/* hsmUriFor */.GN)(cloud, hsmName)).replace(/\/+$/, '');
}

// EXTERNAL MODULE: ./src/outputs.ts
var outputs = __webpack_require__(7729);
;// CONCATENATED MODULE: ./src/steps/account-state.ts
/** Identity values compare without case or surrounding space (`UserAssignedIdentity=<id>` ids included). */
function sameIdentity(a, b) {
    return (a ?? '').trim().toLowerCase() === b.trim().toLowerCase();
}
function isSucceeded(account) {
    return /^succeeded$/i.test(account.provisioningState ?? 'Succeeded');
}
function hasSystemAssigned(account) {
    return /systemassigned/i.test(account.identity.type);
}
function userAssignedIds(account) {
    return Object.keys(account.identity.userAssignedIdentities);
}
function hasUserAssigned(account, identityId) {
    return userAssignedIds(account).some(id => id.toLowerCase() === identityId.toLowerCase());
}
function describeAccount(account) {
    return `${account.provisioningState ?? '?'}, key ${account.keyVaultKeyUri ?? 'none'}, default identity ${account.defaultIdentity ?? 'none'}`;
}

// EXTERNAL MODULE: ./src/sanitize.ts
var sanitize = __webpack_require__(5540);
// EXTERNAL MODULE: ./src/timeline.ts
var timeline = __webpack_require__(1472);
// EXTERNAL MODULE: ./src/wait.ts
var wait = __webpack_require__(910);
;// CONCATENATED MODULE: ./src/steps/context.ts







const defaultWaitLimits = {
    providerRegistrationMs: 15 * 60_000,
    hsmProvisioningMs: 60 * 60_000,
    activationMs: 30 * 60_000,
    rbacPropagationMs: 15 * 60_000,
    principalReplicationMs: 15 * 60_000,
    keyAccessMs: 20 * 60_000,
    accountProvisioningMs: 45 * 60_000,
    unknownOutcomeMs: azure_transport/* defaultTransport */.JT.lostAnswerWaitMs,
    ...wait/* waitDefaults */.MC
};
function record(ctx, entry) {
    ctx.records.push(ctx.account ? { ...entry, account: ctx.account } : entry);
    if (entry.result === 'changed')
        ctx.changed = true;
    if (entry.result === 'would-change')
        ctx.changed = true;
    const verb = entry.result === 'would-change' ? 'would' : entry.result;
    ctx.log.info(`${entry.step}: ${entry.observed} -> ${entry.action} [${verb}]`);
    return entry;
}
function waitIn(ctx, options) {
    return (0,wait/* waitFor */.fm)({ ...waitSettings(ctx), ...options });
}
function retryIn(ctx, operation, pending, options) {
    return (0,wait/* retryWhile */.i9)(operation, pending, { ...waitSettings(ctx), ...options });
}
function waitSettings(ctx) {
    return {
        // A fleet's account gives its place to the next account while it pauses between polls.
        clock: { now: () => ctx.clock.now(), sleep: pausing(ctx.clock) },
        log: (message) => ctx.log.info(message),
        signal: ctx.signal,
        minDelayMs: ctx.waits.minDelayMs,
        maxDelayMs: ctx.waits.maxDelayMs,
        progressEveryMs: ctx.waits.progressEveryMs
    };
}
/**
 * Logs a steady progress line while a long SDK operation (an LRO the SDK polls itself at the
 * interval Azure asks for) is running, and puts it on the run's timeline.
 */
async function withHeartbeat(ctx, what, work) {
    const started = ctx.clock.now();
    const operation = (0,timeline/* beginSpan */.eT)('operation', what);
    ctx.log.info(`Started: ${what}.`);
    const timer = setInterval(() => {
        ctx.log.info(`Still waiting for ${what} (${(0,wait/* seconds */.YA)(ctx.clock.now() - started)} so far).`);
    }, ctx.waits.progressEveryMs);
    timer.unref?.();
    try {
        const result = await work;
        ctx.log.info(`Finished after ${(0,wait/* seconds */.YA)(ctx.clock.now() - started)}: ${what}.`);
        return result;
    }
    finally {
        clearInterval(timer);
        operation?.();
    }
}
function pausing(clock) {
    return (ms, signal) => whileWaiting(() => clock.sleep(ms, signal));
}
function logFor(runner) {
    return {
        info: m => runner.info((0,sanitize/* sanitize */.a)(m)),
        warning: m => runner.warning((0,sanitize/* sanitize */.a)(m)),
        debug: m => runner.debug((0,sanitize/* sanitize */.a)(m))
    };
}
/**
 * The context of one account of a fleet: its inputs name that account alone, its records and log
 * lines carry its name, and `changed` tells what its own steps wrote.
 */
function accountContext(ctx, account) {
    const prefix = (message) => `[${account}] ${message}`;
    return {
        ...ctx,
        inputs: { ...ctx.inputs, account: { ...ctx.inputs.account, name: account, others: [] } },
        log: {
            info: m => ctx.log.info(prefix(m)),
            warning: m => ctx.log.warning(prefix(m)),
            debug: m => ctx.log.debug(prefix(m))
        },
        changed: false,
        account
    };
}
/**
 * Runs `work` for each account the inputs name, `limit` at a time; in a fleet each gets its own
 * context (log lines prefixed with its name, its own `changed`), a single account the run's.
 */
function eachAccount(ctx, limit, work) {
    const names = (0,settings/* accountNames */.Er)(ctx.inputs);
    const fleet = names.length > 1;
    return mapLimited(names, limit, name => work(fleet ? accountContext(ctx, name) : ctx, name));
}
/** Base URI of the run's HSM data plane, without a trailing slash: ARM's `hsmUri` once it is known. */
function dataPlaneUri(ctx, hsm) {
    return hsmBaseUri(ctx.cloud, ctx.inputs.hsm.name, hsm?.hsmUri);
}
/** The versionless URI of the run's key on the run's HSM. */
function runKeyUri(ctx, hsm) {
    return keyUriFor(dataPlaneUri(ctx, hsm), ctx.inputs.key.name);
}

// EXTERNAL MODULE: ./src/steps/names.ts
var steps_names = __webpack_require__(1767);
;// CONCATENATED MODULE: ./src/steps/write-once.ts


/** The write's own read-back shows it has not taken effect yet: nothing to look for before the next try. */
class NotYetVisible extends Error {
    observed;
    constructor(observed) {
        super(`not visible yet: ${observed}`);
        this.observed = observed;
        this.name = 'NotYetVisible';
    }
}
/**
 * Writes until the change has taken effect, backing off between tries, until the step's deadline
 * (and never past the run's). Before a repetition the state is read again, because a failed
 * attempt may have landed all the same; the write is then not sent again. Only an attempt refused
 * outright (a 4xx answer other than a lock held by another operation) or one whose own read-back
 * came up empty is repeated without looking first.
 */
function writeOnce(ctx, write) {
    let lookFirst = false;
    return retryIn(ctx, async () => {
        if (lookFirst) {
            const there = await write.landed();
            if (there !== undefined)
                return there;
        }
        lookFirst = true;
        return write.write();
    }, error => {
        const status = (0,errors/* isOutcomeUnknown */.B1)(error)
            ? 'the outcome of the last attempt is unknown'
            : write.retryable(error);
        const nothingWritten = error instanceof NotYetVisible || ((0,errors/* isRefusal */.vu)(error) && !(0,errors/* isOperationInProgress */.iT)(error));
        if (status !== undefined && nothingWritten)
            lookFirst = false;
        return status === undefined ? undefined : { status, kind: waitKindOf(error) };
    }, { what: write.what, kind: 'propagation', timeoutMs: write.timeoutMs, hint: write.hint });
}
/**
 * A repetition waits for an operation when Azure is busy with one (a held lock) or the last attempt
 * may still be under way; otherwise for the write to be accepted once a grant or a principal has
 * propagated.
 */
function waitKindOf(error) {
    return (0,errors/* isOperationInProgress */.iT)(error) || (0,errors/* isOutcomeUnknown */.B1)(error) ? 'operation' : 'propagation';
}

;// CONCATENATED MODULE: ./src/steps/account.ts





const inProgress = 'another operation on the account is in progress';
const keyAccessPending = 'the identity cannot use the key yet (KeyVaultAuthenticationFailure)';
const keyAccessHint = 'The identity was granted the key a while ago but Azure Cosmos DB still cannot use it: check the HSM ' +
    "role assignment ('Managed HSM Crypto Service Encryption User' for that principal) and that the key is enabled.";
function kindAndCapabilities(api) {
    switch (api) {
        case 'nosql':
            return { kind: 'GlobalDocumentDB', capabilities: [] };
        case 'mongodb':
            return { kind: 'MongoDB', capabilities: [] };
        case 'cassandra':
            return { kind: 'GlobalDocumentDB', capabilities: ['EnableCassandra'] };
        case 'gremlin':
            return { kind: 'GlobalDocumentDB', capabilities: ['EnableGremlin'] };
        case 'table':
            return { kind: 'GlobalDocumentDB', capabilities: ['EnableTable'] };
    }
}
/**
 * Creates the account with the customer-managed key (retrying while the identity cannot reach the
 * key yet), or checks and waits for an existing one. The key itself was checked by preflight().
 */
async function ensureAccount(ctx, observed, create) {
    const { inputs, apis } = ctx;
    const { name } = inputs.account;
    const rg = inputs.resourceGroup;
    if (observed) {
        const account = ctx.plan ? observed : await waitUntilSucceeded(ctx, observed);
        record(ctx, {
            step: steps_names/* Step */.p.Account,
            observed: describeAccount(account),
            action: 'none',
            result: 'ok'
        });
        return account;
    }
    const { kind, capabilities } = kindAndCapabilities(inputs.account.api);
    const action = `create ${inputs.account.api} (${kind}${capabilities.length ? ` + ${capabilities.join(', ')}` : ''}) in ` +
        `${inputs.account.locations.join(', ')} with key ${create.keyVaultKeyUri} and default identity ${create.defaultIdentity}` +
        (create.systemAssigned ? ', system-assigned identity enabled' : '');
    if (ctx.plan) {
        record(ctx, { step: steps_names/* Step */.p.Account, observed: 'absent', action, result: 'would-change' });
        return undefined;
    }
    let account;
    try {
        account = await writeOnce(ctx, {
            what: `Azure Cosmos DB to accept key ${create.keyVaultKeyUri} for ${create.defaultIdentity}`,
            timeoutMs: ctx.waits.keyAccessMs,
            hint: keyAccessHint,
            // A PUT on an existing account would update it: a creation that landed is only waited for.
            landed: async () => {
                const appeared = await apis.cosmos.get(rg, name);
                return appeared && waitUntilSucceeded(ctx, appeared);
            },
            write: () => withHeartbeat(ctx, `creation of Cosmos DB account '${name}'`, apis.cosmos.create(rg, name, {
                location: inputs.account.locations[0],
                kind,
                capabilities,
                locations: inputs.account.locations,
                keyVaultKeyUri: create.keyVaultKeyUri,
                defaultIdentity: create.defaultIdentity,
                userAssignedIdentityId: create.userAssignedIdentityId,
                systemAssigned: create.systemAssigned,
                tags: ctx.tags
            }, answer => {
                if (answer.systemPrincipalId)
                    create.systemPrincipalCreated?.(answer.systemPrincipalId);
            })),
            retryable: error => {
                if ((0,errors/* isKeyAccessPending */.jJ)(error))
                    return keyAccessPending;
                return (0,errors/* isOperationInProgress */.iT)(error) ? inProgress : undefined;
            }
        });
    }
    catch (error) {
        // A concurrent run may be creating the same account: read back before failing.
        const again = (0,errors/* statusOf */.c2)(error) === 409 ? await apis.cosmos.get(rg, name) : undefined;
        if (!again)
            throw new errors/* ActionError */.lZ(`Creating Cosmos DB account '${name}' failed: ${(0,errors/* describeError */.Uc)(error)}`);
        account = await waitUntilSucceeded(ctx, again);
    }
    record(ctx, { step: steps_names/* Step */.p.Account, observed: 'absent', action, result: 'changed' });
    return account;
}
async function waitUntilSucceeded(ctx, account) {
    if (isSucceeded(account))
        return account;
    const { name } = ctx.inputs.account;
    const rg = ctx.inputs.resourceGroup;
    return waitIn(ctx, {
        what: `Cosmos DB account '${name}' to finish ${account.provisioningState ?? 'provisioning'}`,
        kind: 'operation',
        timeoutMs: ctx.waits.accountProvisioningMs,
        hint: `Check: az cosmosdb show --name ${name} --resource-group ${rg} --query provisioningState`,
        poll: async () => {
            const current = await ctx.apis.cosmos.get(rg, name);
            if (!current)
                throw new errors/* ActionError */.lZ(`Cosmos DB account '${name}' disappeared while being provisioned.`);
            if (isSucceeded(current))
                return { done: true, value: current };
            if (/^failed$/i.test(current.provisioningState ?? '')) {
                throw new errors/* ActionError */.lZ(`Cosmos DB account '${name}' is in provisioning state Failed.`);
            }
            return { done: false, status: `provisioningState ${current.provisioningState}` };
        }
    });
}

;// CONCATENATED MODULE: ./src/steps/account-key.ts







/** What turning customer-managed keys on for an account with data means, said before it starts. */
const enableConsequences = 'irreversible: every document is re-encrypted in the background while the account keeps serving; ' +
    'adding regions waits until it ends; document ids must be 990 bytes or less; on a large account raise ' +
    'its throughput first, since the re-encryption uses spare request units';
/**
 * Brings an existing account onto the key: turns customer-managed keys on (`enable-on-existing`)
 * or moves it from another key (`key-switch`), in an update that carries the key URI alone, once
 * the account's identity holds its grant. The re-encryption is a long-running operation: a re-run
 * finds the account on the key while it runs and waits for it instead of asking again.
 */
async function ensureAccountKey(ctx, account, keyUri) {
    if (account.keyVaultKeyUri && sameKey(account.keyVaultKeyUri, keyUri))
        return account;
    const observed = account.keyVaultKeyUri
        ? `key ${account.keyVaultKeyUri}`
        : 'no customer-managed key';
    const action = account.keyVaultKeyUri
        ? `move to ${keyUri}`
        : `turn customer-managed keys on with ${keyUri} (${enableConsequences})`;
    if (ctx.plan) {
        record(ctx, { step: steps_names/* Step */.p.AccountKey, observed, action, result: 'would-change' });
        return account;
    }
    if (!account.keyVaultKeyUri) {
        ctx.log.warning(`Turning customer-managed keys on for Cosmos DB account '${account.name}': ${enableConsequences}.`);
    }
    const rg = ctx.inputs.resourceGroup;
    const onKey = (a) => !!a.keyVaultKeyUri && sameKey(a.keyVaultKeyUri, keyUri);
    const updated = await writeOnce(ctx, {
        what: `Azure Cosmos DB to encrypt account '${account.name}' with ${keyUri}`,
        timeoutMs: ctx.waits.accountProvisioningMs,
        hint: keyAccessHint,
        landed: async () => {
            const current = await ctx.apis.cosmos.get(rg, account.name);
            return current && onKey(current) && isSucceeded(current) ? current : undefined;
        },
        write: () => withHeartbeat(ctx, `encryption of Cosmos DB account '${account.name}' with ${keyUri} (it runs in Azure; a re-run resumes watching it)`, ctx.apis.cosmos.update(rg, account.name, { keyVaultKeyUri: keyUri })),
        retryable: error => {
            if ((0,errors/* isKeyAccessPending */.jJ)(error))
                return keyAccessPending;
            return (0,errors/* isOperationInProgress */.iT)(error) ? inProgress : undefined;
        }
    });
    record(ctx, { step: steps_names/* Step */.p.AccountKey, observed, action, result: 'changed' });
    return updated;
}

;// CONCATENATED MODULE: ./src/steps/activation.ts




const STEP = steps_names/* Step */.p.Activation;
function activationSteps(hsmName, resourceGroup) {
    return [
        `Managed HSM '${hsmName}' (resource group '${resourceGroup}') is not activated: it cannot create or use keys until its security domain is downloaded. Either let this action activate it by setting`,
        '  security-domain-certificates: 3 to 10 PEM files with RSA public keys, e.g. sd0.cer, sd1.cer, sd2.cer',
        '  security-domain-quorum: how many of their private keys are needed to recover, e.g. 2',
        '  security-domain-file: where to write the encrypted security domain, e.g. security-domain.json',
        'or activate it yourself and re-run:',
        '  openssl req -newkey rsa:2048 -nodes -keyout sd0.key -x509 -days 365 -out sd0.cer   (again for sd1 and sd2)',
        `  az keyvault security-domain download --hsm-name ${hsmName} --sd-wrapping-keys sd0.cer sd1.cer sd2.cer --sd-quorum 2 --security-domain-file ${hsmName}-security-domain.json`,
        'Keep the private keys and the security domain file offline and apart: they are the only way to recover the HSM.'
    ].join('\n');
}
/** The HSM tag that tells later runs whether the security domain this action downloaded is safe. */
const securityDomainTag = 'cmk-security-domain';
/** A download this action started and never reported saved: its security domain may be lost. */
function unsavedDownload(hsm) {
    const marker = hsm?.tags[securityDomainTag];
    return marker?.startsWith('download started') ? marker : undefined;
}
function downloadUnderWay(status) {
    return !!status && /^(InProgress|Success)$/i.test(status.status);
}
/** Why a run stops at a download this action started and never saved, and what to do. */
function unsavedDownloadMessage(hsmName, marker, file) {
    return (`Managed HSM '${hsmName}' is tagged ${securityDomainTag}='${marker}': a security domain download this ` +
        `action started was never saved${file ? ` to ${file}` : ''}, so no copy of the security domain may exist. ` +
        'If another run is activating the HSM right now, re-run when it has finished. Otherwise, once the HSM is ' +
        `active, download the security domain again (az keyvault security-domain download --hsm-name ${hsmName} ` +
        `...), keep it offline, and remove the tag (az tag update --resource-id <the HSM's id> --operation Delete ` +
        `--tags ${securityDomainTag}); then re-run.`);
}
/** What a run must refuse, before any write, about the security domain and its file. */
function securityDomainProblems(ctx, hsm, download) {
    const sd = ctx.inputs.securityDomain;
    const hsmName = ctx.inputs.hsm.name;
    const state = sd ? ctx.secretFiles.state(sd.file) : 'absent';
    const marker = unsavedDownload(hsm);
    // Only a download the HSM took can be lost: while the HSM is not active and no download is under
    // way, the one the tag tells of never reached it (cut off or refused), and this run starts it again.
    const taken = hsm?.activationStatus === 'Active' || downloadUnderWay(download);
    if (marker && taken && state !== 'written') {
        return [unsavedDownloadMessage(hsmName, marker, sd?.file)];
    }
    const downloads = hsm ? hsm.activationStatus !== 'Active' && !downloadUnderWay(download) : true;
    if (!sd || !downloads || state === 'absent' || state === 'empty')
        return [];
    return [
        state === 'written'
            ? `security-domain-file ${sd.file} already exists. It may hold another security domain, so it is never ` +
                'overwritten: move it away or choose another path.'
            : `security-domain-file ${sd.file} is not a regular file (a link, a folder or a device): the security ` +
                'domain is written to a new regular file only. Choose another path.'
    ];
}
/**
 * Activates the HSM: reserves the security domain file (owner-only, never through a link, never
 * over content), tags the HSM that a download is under way, downloads the security domain, writes
 * and syncs it to the file, tags the HSM that it is saved, and waits until Azure reports the HSM
 * Active. A download begun by an earlier run is waited for, not repeated; one whose security
 * domain was never saved stops every later run (see securityDomainProblems), and one the HSM never
 * took is started again.
 */
async function ensureActivated(ctx, hsm, observedDownload) {
    const { inputs } = ctx;
    const sd = inputs.securityDomain;
    if (hsm?.activationStatus === 'Active') {
        // Preflight let an unsaved marker through only with the file written: this run saved it.
        if (unsavedDownload(hsm) && !ctx.plan)
            await markSaved(ctx, hsm);
        record(ctx, { step: STEP, observed: 'Active', action: 'none', result: 'ok' });
        return hsm;
    }
    if (!sd)
        throw new errors/* ActionError */.lZ(activationSteps(inputs.hsm.name, inputs.hsm.resourceGroup));
    const action = `download the security domain for ${sd.certificates.length} certificates (quorum ${sd.quorum}) ` +
        `to ${sd.file} and wait for activation`;
    const observed = hsm ? hsm.activationStatus : 'HSM not created yet';
    if (ctx.plan || !hsm) {
        record(ctx, { step: STEP, observed, action, result: 'would-change' });
        return hsm;
    }
    const securityDomain = ctx.apis.hsm(dataPlaneUri(ctx, hsm)).securityDomain;
    const pending = observedDownload ?? (await securityDomain.downloadStatus());
    if (downloadUnderWay(pending)) {
        ctx.log.info(`A security domain download is already ${pending?.status} on '${hsm.name}'; waiting for it.`);
        const marker = unsavedDownload(hsm);
        if (ctx.secretFiles.state(sd.file) === 'written')
            await markSaved(ctx, hsm);
        else if (marker)
            throw new errors/* ActionError */.lZ(unsavedDownloadMessage(hsm.name, marker, sd.file));
        else {
            ctx.log.warning(`${sd.file} does not exist here: the security domain of that download is saved by the run that started ` +
                'it. Make sure that run kept it.');
        }
    }
    else {
        await download(ctx, hsm, securityDomain, sd);
    }
    const { name, resourceGroup } = inputs.hsm;
    const active = await waitIn(ctx, {
        what: `Managed HSM '${name}' to be activated`,
        kind: 'operation',
        timeoutMs: ctx.waits.activationMs,
        hint: `Check: az keyvault show --hsm-name ${name} --resource-group ${resourceGroup} --query properties.securityDomainProperties`,
        poll: async () => {
            const status = await securityDomain.downloadStatus();
            if (status && /^failed$/i.test(status.status)) {
                throw new errors/* ActionError */.lZ(`The security domain download of '${name}' failed${status.statusDetails ? `: ${status.statusDetails}` : ''}.`);
            }
            const current = await ctx.apis.managedHsms.get(resourceGroup, name);
            if (current?.activationStatus === 'Active')
                return { done: true, value: current };
            return {
                done: false,
                status: `download ${status?.status ?? 'unknown'}, activationStatus ${current?.activationStatus ?? 'unknown'}`
            };
        }
    });
    record(ctx, { step: STEP, observed, action, result: 'changed' });
    return active;
}
async function download(ctx, hsm, securityDomain, sd) {
    let file;
    try {
        file = await ctx.secretFiles.reserve(sd.file);
    }
    catch (error) {
        throw new errors/* ActionError */.lZ(`Input 'security-domain-file' is '${sd.file}': it cannot be created (${(0,errors/* describeError */.Uc)(error)}), so the ` +
            'security domain was not downloaded. Choose a path in a folder this job may write to, where no file or link is.');
    }
    try {
        await ctx.apis.managedHsms.mergeTags(hsm.id, {
            [securityDomainTag]: `download started ${new Date(ctx.clock.now()).toISOString()}`
        });
        const { value } = await writeOnce(ctx, {
            what: `the security domain download of '${hsm.name}' to start`,
            timeoutMs: ctx.waits.activationMs,
            hint: `Check: az keyvault show --hsm-name ${hsm.name} --query properties.securityDomainProperties`,
            // A download that started without us getting its answer cannot be fetched again.
            landed: async () => downloadUnderWay(await securityDomain.downloadStatus()) ? { value: undefined } : undefined,
            write: () => securityDomain.download(sd.certificates.map(c => c.jwk), sd.quorum),
            retryable: () => undefined
        });
        if (value === undefined) {
            throw new errors/* ActionError */.lZ(`The security domain download of '${hsm.name}' started, but its answer was lost on the way, so ` +
                `${sd.file} was not written and no copy of the security domain exists here. Once the HSM is active, ` +
                `download it again (az keyvault security-domain download --hsm-name ${hsm.name} --sd-wrapping-keys ... ` +
                `--sd-quorum ... --security-domain-file ...), keep it offline, and remove the tag ${securityDomainTag} ` +
                'from the HSM; then re-run.');
        }
        try {
            await file.write(value);
        }
        catch (error) {
            throw new errors/* ActionError */.lZ(`The security domain of '${hsm.name}' was downloaded, but writing it to ${sd.file} failed ` +
                `(${(0,errors/* describeError */.Uc)(error)}), so no copy of the security domain exists. Once the HSM is active, ` +
                `download it again (az keyvault security-domain download --hsm-name ${hsm.name} --sd-wrapping-keys ... ` +
                `--sd-quorum ... --security-domain-file ...), keep it offline, and remove the tag ${securityDomainTag} ` +
                'from the HSM; then re-run.');
        }
    }
    catch (error) {
        await file.release().catch(() => { });
        throw error;
    }
    ctx.log.info(`Wrote the encrypted security domain to ${sd.file} (readable by its owner only).`);
    await markSaved(ctx, hsm);
}
function markSaved(ctx, hsm) {
    return ctx.apis.managedHsms.mergeTags(hsm.id, {
        [securityDomainTag]: `saved ${new Date(ctx.clock.now()).toISOString()}`
    });
}

;// CONCATENATED MODULE: ./src/steps/key.ts





const key_STEP = steps_names/* Step */.p.Key;
const requiredOps = ['wrapKey', 'unwrapKey'];
/** Every way an existing key falls short of what Cosmos DB needs, as readable phrases. */
function keyMismatches(key, wantedSize, now) {
    const problems = [];
    if (!/^RSA(-HSM)?$/.test(key.kty))
        problems.push(`its type is ${key.kty}, not RSA-HSM`);
    if (key.keySize !== undefined && key.keySize !== wantedSize) {
        problems.push(`it is ${key.keySize} bits, but key-size is ${wantedSize}`);
    }
    const missing = requiredOps.filter(op => !key.keyOps.includes(op));
    if (missing.length)
        problems.push(`its allowed operations lack ${missing.join(' and ')}`);
    if (!key.enabled)
        problems.push('it is disabled');
    if (key.expiresOn && key.expiresOn.getTime() <= now.getTime()) {
        problems.push(`it expired on ${key.expiresOn.toISOString()}`);
    }
    if (key.notBefore && key.notBefore.getTime() > now.getTime()) {
        problems.push(`it is not valid before ${key.notBefore.toISOString()}`);
    }
    return problems;
}
function describeKey(key) {
    return `${key.kty} ${key.keySize ?? '?'} bits, ops ${key.keyOps.join('/') || 'none'}, ${key.enabled ? 'enabled' : 'disabled'}, version ${key.version}`;
}
/** Why an existing key cannot serve Cosmos DB, as the whole message; undefined when it can. */
function unusableKeyMessage(ctx, key) {
    const problems = keyMismatches(key, ctx.inputs.key.size, new Date(ctx.clock.now()));
    if (!problems.length)
        return undefined;
    return (`Key '${ctx.inputs.key.name}' on Managed HSM '${ctx.inputs.hsm.name}' cannot be used: ${problems.join('; ')}. ` +
        'This action never modifies an existing key or adds a version to it: choose another key-name, or fix ' +
        'the key yourself.');
}
/**
 * Checks the key when it was observed, reads it otherwise (waiting out the HSM's 403 while the
 * admin grant propagates), and creates it when absent. An existing key is never modified, and no
 * second version is ever created. Answers undefined in plan mode when the key would be created or
 * cannot be read yet.
 */
async function ensureKey(ctx, { keys, settings }, 
/** What the observation saw (`key` undefined: absent); undefined when it could not read it. */
observed) {
    const { name, size } = ctx.inputs.key;
    // Read alongside the key, for when it must be created: an HSM that does not trust ARM with key
    // management refuses ARM's create-if-not-exist, which would show as a failed operation.
    const armTrust = observed?.key || ctx.plan || ctx.inputs.hsm.allowArmKeyManagement
        ? undefined
        : armTrustOf(settings);
    let key;
    try {
        key = observed ? observed.key : await readKey(ctx, keys);
    }
    catch (error) {
        if (ctx.plan && (0,errors/* isRbacDenied */.k4)(error)) {
            record(ctx, {
                step: key_STEP,
                observed: 'unreadable until the admin grant takes effect',
                action: `create RSA-HSM ${size} '${name}' if absent`,
                result: 'would-change'
            });
            return undefined;
        }
        throw error;
    }
    if (key) {
        const problem = unusableKeyMessage(ctx, key);
        if (problem)
            throw new errors/* ActionError */.lZ(problem);
        record(ctx, { step: key_STEP, observed: describeKey(key), action: 'none', result: 'ok' });
        return key;
    }
    if (ctx.inputs.hsm.allowArmKeyManagement)
        await ensureArmKeyManagement(ctx, settings);
    const action = `create RSA-HSM ${size} with wrapKey, unwrapKey`;
    if (ctx.plan) {
        record(ctx, { step: key_STEP, observed: 'absent', action, result: 'would-change' });
        return undefined;
    }
    const created = await createIfNotExist(ctx, keys, (await armTrust) !== false);
    record(ctx, {
        step: key_STEP,
        observed: 'absent',
        action: `${action}: version ${created.version}`,
        result: 'changed'
    });
    return created;
}
/**
 * Creates the key through ARM's create-if-not-exist, which never adds a version: runs that start
 * together on a new key end with one version and report the same one. ARM acts on the caller's
 * behalf, so it needs `Microsoft.KeyVault/managedHSMs/keys/write` on the HSM resource, the
 * HSM-local grant, and an HSM that trusts ARM with key management (the HSM setting
 * AllowKeyManagementOperationsThroughARM); without the first or the last, the key is created on
 * the data plane, observing before each try.
 */
async function createIfNotExist(ctx, keys, throughArm) {
    const { name, size } = ctx.inputs.key;
    const hsm = ctx.inputs.hsm;
    if (!throughArm) {
        ctx.log.info(`The HSM does not let ARM manage keys (${ARM_TRUST} false); creating key '${name}' on its data plane.`);
        return createOnce(ctx, keys);
    }
    try {
        return await writeOnce(ctx, {
            what: `Managed HSM '${hsm.name}' to let ${ctx.principal.objectId} create key '${name}'`,
            timeoutMs: ctx.waits.rbacPropagationMs,
            hint: `Check the assignments: az keyvault role assignment list --hsm-name ${hsm.name} ` +
                `--assignee ${ctx.principal.objectId}`,
            landed: () => ctx.apis.managedHsms.getKey(hsm.resourceGroup, hsm.name, name),
            write: () => ctx.apis.managedHsms.createKeyIfNotExist(hsm.resourceGroup, hsm.name, name, {
                kty: 'RSA-HSM',
                keySize: size,
                keyOps: requiredOps,
                tags: ctx.tags
            }),
            retryable: error => (0,errors/* isRbacDenied */.k4)(error) ? `HSM answered 403 (${(0,errors/* codeOf */.$N)(error) ?? 'Forbidden'})` : undefined
        });
    }
    catch (error) {
        // ARM refuses outright when the caller lacks the ARM permission or the HSM does not trust
        // ARM with key management (the HSM setting AllowKeyManagementOperationsThroughARM).
        if (!(0,errors/* isRefusal */.vu)(error) || (0,errors/* isRbacDenied */.k4)(error))
            throw error;
        ctx.log.info(`ARM did not create key '${name}' (${(0,errors/* describeError */.Uc)(error)}); creating it on the HSM's data plane instead.`);
        return (await readKey(ctx, keys)) ?? createOnce(ctx, keys);
    }
}
const ARM_TRUST = 'AllowKeyManagementOperationsThroughARM';
/**
 * Whether the HSM trusts ARM with key management; undefined when the setting cannot be read (it
 * takes the Managed HSM Administrator role), so that ARM is tried and its answer tells.
 */
async function armTrustOf(settings) {
    try {
        const value = await settings.get(ARM_TRUST);
        return value === undefined ? undefined : value.toLowerCase() === 'true';
    }
    catch {
        return undefined;
    }
}
/** Lets the HSM accept key management through ARM (`allow-arm-key-management`). */
async function ensureArmKeyManagement(ctx, settings) {
    const step = steps_names/* Step */.p.ArmKeyManagement;
    let value;
    try {
        value = await settings.get(ARM_TRUST);
    }
    catch (error) {
        throw new errors/* ActionError */.lZ(`allow-arm-key-management is true, but the HSM setting ${ARM_TRUST} of '${ctx.inputs.hsm.name}' cannot ` +
            `be read (${(0,errors/* describeError */.Uc)(error)}); changing it takes 'Managed HSM Administrator' at '/'.`);
    }
    const observed = `${ARM_TRUST} ${value ?? 'unset'}`;
    if (value?.toLowerCase() === 'true') {
        record(ctx, { step, observed, action: 'none', result: 'ok' });
        return;
    }
    const action = `set ${ARM_TRUST} to true`;
    if (ctx.plan) {
        record(ctx, { step, observed, action, result: 'would-change' });
        return;
    }
    await settings.update(ARM_TRUST, 'true');
    record(ctx, { step, observed, action, result: 'changed' });
}
async function readKey(ctx, keys) {
    const { name } = ctx.inputs.key;
    const hsmName = ctx.inputs.hsm.name;
    if (ctx.plan)
        return keys.get(name);
    return retryIn(ctx, () => keys.get(name), error => (0,errors/* isRbacDenied */.k4)(error) ? `HSM answered 403 (${(0,errors/* codeOf */.$N)(error) ?? 'Forbidden'})` : undefined, {
        what: `'Managed HSM Crypto User' on /keys to take effect for ${ctx.principal.objectId}`,
        kind: 'propagation',
        timeoutMs: ctx.waits.rbacPropagationMs,
        hint: `Check the assignments: az keyvault role assignment list --hsm-name ${hsmName} ` +
            `--assignee ${ctx.principal.objectId}`
    });
}
/**
 * Creates the key on the data plane. A repeated create would add a second version, so a create whose outcome is
 * unknown (cut off, timed out) is followed by a read, and repeated only while the key is still
 * absent; a cut-off create may still be under way at the HSM, so the key is watched for a while
 * before it is created again. A conflict is read back.
 */
async function createOnce(ctx, keys) {
    const { name, size } = ctx.inputs.key;
    try {
        return await writeOnce(ctx, {
            what: `key '${name}' to be created`,
            timeoutMs: ctx.waits.keyAccessMs,
            hint: `Check the key: az keyvault key show --hsm-name ${ctx.inputs.hsm.name} --name ${name}`,
            landed: () => landedKey(ctx, keys),
            write: () => keys.createRsa(name, size, requiredOps, ctx.tags),
            retryable: () => undefined
        });
    }
    catch (error) {
        if ((0,errors/* isRbacDenied */.k4)(error)) {
            throw new errors/* ActionError */.lZ(`The signed-in principal may read but not create keys on '${ctx.inputs.hsm.name}': ${(0,errors/* describeError */.Uc)(error)}`);
        }
        if ((0,errors/* statusOf */.c2)(error) !== 409)
            throw error;
        const existing = await readKey(ctx, keys);
        if (existing)
            return existing;
        throw new errors/* ActionError */.lZ(`Key '${name}' cannot be created: ${(0,errors/* describeError */.Uc)(error)}. If a deleted key of that name is kept by ` +
            `soft delete, recover it (az keyvault key recover --hsm-name ${ctx.inputs.hsm.name} --name ${name}) ` +
            'or choose another key-name.');
    }
}
/** The key, if a creation whose outcome is unknown lands within `waits.unknownOutcomeMs`. */
async function landedKey(ctx, keys) {
    const { name } = ctx.inputs.key;
    try {
        return await waitIn(ctx, {
            what: `key '${name}' from a creation whose answer was lost`,
            kind: 'operation',
            timeoutMs: ctx.waits.unknownOutcomeMs,
            hint: '',
            poll: async () => {
                const key = await readKey(ctx, keys);
                return key ? { done: true, value: key } : { done: false, status: 'absent' };
            }
        });
    }
    catch (error) {
        if (!(error instanceof wait/* WaitTimeoutError */.Do))
            throw error;
        ctx.log.info(`The key creation's outcome was unknown and the key did not appear; creating it again.`);
        return undefined;
    }
}

;// CONCATENATED MODULE: ./src/steps/rotation.ts



function describePolicy(policy) {
    if (!policy)
        return 'no rotation policy';
    const rotate = policy.rotateAfter
        ? `rotate ${policy.rotateAfter} after creation`
        : policy.rotateBeforeExpiry
            ? `rotate ${policy.rotateBeforeExpiry} before expiry`
            : 'no rotation';
    return `${rotate}, versions expire ${policy.expireAfter ? `after ${policy.expireAfter}` : 'never'}`;
}
function samePolicy(a, b) {
    const same = (x, y) => (x ?? '').toUpperCase() === (y ?? '').toUpperCase();
    return (!!a &&
        same(a.rotateAfter, b.rotateAfter) &&
        same(a.rotateBeforeExpiry, b.rotateBeforeExpiry) &&
        same(a.expireAfter, b.expireAfter));
}
/** The policy `key-rotate-after` / `key-expire-after` ask for, if any. */
function wantedPolicy(ctx) {
    const rotation = ctx.inputs.key.rotation;
    return rotation && { rotateAfter: rotation.rotateAfter, expireAfter: rotation.expireAfter };
}
/**
 * Keeps the key's rotation policy as the inputs ask (setting a policy creates no version), then
 * rotates now when `rotate-key` asks. Answers the key's current version.
 */
async function ensureRotation(ctx, keys, key) {
    const wanted = wantedPolicy(ctx);
    let policy;
    if (wanted || ctx.inputs.key.rotateNow)
        policy = await keys.getRotationPolicy(key.name);
    if (wanted) {
        const observed = describePolicy(policy);
        if (samePolicy(policy, wanted)) {
            record(ctx, { step: steps_names/* Step */.p.RotationPolicy, observed, action: 'none', result: 'ok' });
        }
        else {
            const action = `set: ${describePolicy(wanted)}`;
            if (ctx.plan) {
                record(ctx, { step: steps_names/* Step */.p.RotationPolicy, observed, action, result: 'would-change' });
            }
            else {
                policy = await keys.setRotationPolicy(key.name, wanted);
                record(ctx, { step: steps_names/* Step */.p.RotationPolicy, observed, action, result: 'changed' });
            }
        }
        policy ??= wanted;
    }
    if (!ctx.inputs.key.rotateNow)
        return key;
    if (!policy) {
        throw new errors/* ActionError */.lZ(`rotate-key is true, but key '${key.name}' has no rotation policy, which Managed HSM needs before it ` +
            'rotates a key on demand. Set key-rotate-after (and key-expire-after) to give it one.');
    }
    const action = 'rotate now: a new version; the old ones stay enabled';
    if (ctx.plan) {
        record(ctx, {
            step: steps_names/* Step */.p.KeyRotation,
            observed: `version ${key.version}`,
            action,
            result: 'would-change'
        });
        return key;
    }
    const rotated = await keys.rotate(key.name);
    record(ctx, {
        step: steps_names/* Step */.p.KeyRotation,
        observed: `version ${key.version}`,
        action: `${action}: version ${rotated.version}`,
        result: 'changed'
    });
    return rotated;
}

;// CONCATENATED MODULE: ./src/steps/principals.ts



/**
 * The object id of the Azure Cosmos DB first-party service principal in this tenant: from
 * `cosmos-principal-id` when given, else looked up in Microsoft Graph by application id (the
 * object id differs per tenant).
 */
function firstPartyPrincipalId(ctx) {
    ctx.firstPartyPrincipal ??= lookUpFirstPartyPrincipal(ctx);
    return ctx.firstPartyPrincipal;
}
async function lookUpFirstPartyPrincipal(ctx) {
    const appId = ctx.cloud.cosmosDbApplicationId;
    const given = ctx.inputs.identity.cosmosPrincipalId;
    const step = steps_names/* Step */.p.CosmosPrincipal;
    if (given)
        return checkGivenPrincipal(ctx, given);
    let id;
    try {
        id = await ctx.apis.graph.servicePrincipalIdByAppId(appId);
    }
    catch (error) {
        if ((0,errors/* statusOf */.c2)(error) === 403 || (0,errors/* statusOf */.c2)(error) === 401) {
            throw new errors/* ActionError */.lZ(`Microsoft Graph refused to look up the Azure Cosmos DB service principal (${(0,errors/* describeError */.Uc)(error)}). ` +
                'Pipeline identities often lack Graph read permission. Set cosmos-principal-id to its object id in ' +
                `your tenant instead; someone with directory read access can get it with: az ad sp show --id ${appId} --query id -o tsv`);
        }
        throw error;
    }
    if (!id) {
        throw new errors/* ActionError */.lZ(`The Azure Cosmos DB service principal (application ${appId}) does not exist in tenant ` +
            `${ctx.principal.tenantId}. Registering the Microsoft.DocumentDB resource provider creates it; or set cosmos-principal-id.`);
    }
    record(ctx, {
        step,
        observed: `application ${appId} is object ${id}`,
        action: 'none',
        result: 'ok'
    });
    return id;
}
/**
 * Checks `cosmos-principal-id` against the directory when it may be read: a GUID that is no
 * principal, or another application's, is refused before any write. A directory that may not be
 * read leaves it unchecked (the role assignment then fails fast, naming the input).
 */
async function checkGivenPrincipal(ctx, given) {
    const appId = ctx.cloud.cosmosDbApplicationId;
    const howToGet = `az ad sp show --id ${appId} --query id -o tsv`;
    let principal;
    try {
        principal = await ctx.apis.graph.servicePrincipal(given);
    }
    catch (error) {
        if ((0,errors/* statusOf */.c2)(error) !== 403 && (0,errors/* statusOf */.c2)(error) !== 401)
            throw error;
        record(ctx, {
            step: steps_names/* Step */.p.CosmosPrincipal,
            observed: `cosmos-principal-id ${given}; the directory may not be read to check it`,
            action: 'none',
            result: 'ok'
        });
        return given;
    }
    if (!principal) {
        throw new errors/* ActionError */.lZ(`Input 'cosmos-principal-id' is '${given}': no service principal has that object id in tenant ` +
            `${ctx.principal.tenantId}. Get the object id of the Azure Cosmos DB principal with: ${howToGet}`);
    }
    if (principal.appId !== appId) {
        throw new errors/* ActionError */.lZ(`Input 'cosmos-principal-id' is '${given}': it is the object id of '${principal.displayName}' ` +
            `(application ${principal.appId}), not of Azure Cosmos DB (application ${appId}). Get the right one with: ${howToGet}`);
    }
    record(ctx, {
        step: steps_names/* Step */.p.CosmosPrincipal,
        observed: `cosmos-principal-id ${given} is application ${appId}`,
        action: 'none',
        result: 'ok'
    });
    return given;
}

;// CONCATENATED MODULE: ./src/steps/role-assignment.ts




function findGrant(assignments, grant) {
    const principal = grant.principalId.toLowerCase();
    return assignments.find(a => a.principalId.toLowerCase() === principal &&
        roleGuidOf(a.roleDefinitionId) === grant.role.id &&
        scopeCovers(a.scope, grant.scope));
}
/**
 * Observes the principal's assignments at the scope and creates the grant only when none covers
 * it, under a deterministic name. A principal the directory does not know yet is waited for; an
 * assignment created concurrently (409) is read back.
 */
async function ensureRoleAssignment(ctx, rbac, grant, 
/** The principal's assignments at the scope, when observed already. */
observed) {
    const scope = normaliseScope(grant.scope);
    const name = roleAssignmentName(ctx.inputs.hsm.name, scope, grant.role.id, grant.principalId);
    const what = `'${grant.role.name}' at ${scope} for ${grant.principalLabel} ${grant.principalId}`;
    let existing;
    try {
        existing = findGrant(observed ?? (await rbac.listForPrincipal(scope, grant.principalId)), grant);
    }
    catch (error) {
        throw forbiddenHelp(ctx, error, 'read role assignments');
    }
    if (existing) {
        record(ctx, {
            step: grant.step,
            observed: `${what} present (${existing.name} at ${existing.scope})`,
            action: 'none',
            result: 'ok'
        });
        return { assignment: existing, name, created: false };
    }
    if (ctx.plan) {
        record(ctx, {
            step: grant.step,
            observed: `${what} absent`,
            action: `assign as ${name}`,
            result: 'would-change'
        });
        return { name, created: false };
    }
    let assignment;
    try {
        assignment = await writeOnce(ctx, {
            what: `${grant.principalLabel} ${grant.principalId} to be known to the directory`,
            timeoutMs: ctx.waits.principalReplicationMs,
            hint: 'A new identity can take minutes to replicate; check that the principal id is right.',
            landed: () => rbac.get(scope, name),
            write: () => rbac.create(scope, name, roleDefinitionId(grant.role), grant.principalId),
            retryable: error => (0,errors/* isPrincipalNotFound */._3)(error) && grant.mayBeNew
                ? 'the directory does not know the principal yet'
                : undefined
        });
    }
    catch (error) {
        if ((0,errors/* isPrincipalNotFound */._3)(error)) {
            const source = grant.principalInput ? ` (input '${grant.principalInput}')` : '';
            throw new errors/* ActionError */.lZ(`The directory does not know ${grant.principalLabel} ${grant.principalId}${source}, so it cannot be ` +
                `assigned '${grant.role.name}' at ${scope}: check that this is the principal's object id (${(0,errors/* describeError */.Uc)(error)}).`);
        }
        if (!(0,errors/* isConflict */.dh)(error))
            throw forbiddenHelp(ctx, error, 'create role assignments');
        const readBack = (await rbac.get(scope, name)) ??
            findGrant(await rbac.listForPrincipal(scope, grant.principalId), grant);
        if (!readBack) {
            throw new errors/* ActionError */.lZ(`Assigning ${what} conflicted with an assignment that cannot be found: ${(0,errors/* describeError */.Uc)(error)}`);
        }
        assignment = readBack;
    }
    record(ctx, {
        step: grant.step,
        observed: `${what} absent`,
        action: `assigned as ${name}`,
        result: 'changed'
    });
    return { assignment, name, created: true };
}
function forbiddenHelp(ctx, error, what) {
    if ((0,errors/* statusOf */.c2)(error) !== 403)
        return error;
    const { name } = ctx.inputs.hsm;
    return new errors/* ActionError */.lZ(`The signed-in principal ${ctx.principal.objectId} may not ${what} on Managed HSM '${name}' ` +
        `(${(0,errors/* describeError */.Uc)(error)}). It needs 'Managed HSM Administrator' at '/': ask an HSM administrator to run ` +
        `az keyvault role assignment create --hsm-name ${name} --role "Managed HSM Administrator" ` +
        `--assignee-object-id ${ctx.principal.objectId} --scope /`);
}

;// CONCATENATED MODULE: ./src/steps/grants.ts







/** The HSM-local scope of the key grants (`role-scope`). */
function keyScopeOf(ctx) {
    return ctx.inputs.roleScope === 'key' ? `/keys/${ctx.inputs.key.name}` : '/keys';
}
/**
 * The signed-in principal's grant, then the key, while the creation identity's grant runs side
 * by side: a grant at /keys/<name> does not need the key to exist, so both propagation waits
 * overlap.
 */
async function ensureKeyAccess(ctx, { step }, plane, seen, creation) {
    const adminThenKey = async () => {
        const admin = await step(steps_names/* Step */.p.AdminGrant, () => ensureAdminGrant(ctx, plane, seen));
        const key = await step(steps_names/* Step */.p.Key, () => ensureKeyOn(ctx, plane, seen));
        return { admin, key };
    };
    const [{ admin, key }, cosmos] = await Promise.all([
        adminThenKey(),
        step(steps_names/* Step */.p.CosmosGrant, () => ensureCreationGrant(ctx, plane, creation))
    ]);
    const assignments = [admin?.assignment, cosmos.grant?.assignment].filter((a) => !!a);
    return { key, creationPrincipal: cosmos.principalId, assignments };
}
function ensureAdminGrant(ctx, plane, seen) {
    const role = hsmRoles.cryptoUser;
    if (!plane) {
        notReadable(ctx, steps_names/* Step */.p.AdminGrant, `assign '${role.name}' at /keys to ${ctx.principal.objectId}`);
        return Promise.resolve(undefined);
    }
    return ensureRoleAssignment(ctx, plane.rbac, {
        step: steps_names/* Step */.p.AdminGrant,
        role,
        scope: '/keys',
        principalId: ctx.principal.objectId,
        principalLabel: 'the signed-in principal',
        mayBeNew: false
    }, seen.adminGrants);
}
async function ensureKeyOn(ctx, plane, seen) {
    const { name, size } = ctx.inputs.key;
    if (!plane) {
        notReadable(ctx, steps_names/* Step */.p.Key, `create RSA-HSM ${size} '${name}' if absent`);
        return undefined;
    }
    const key = await ensureKey(ctx, plane, seen.key);
    return key && ensureRotation(ctx, plane.keys, key);
}
async function ensureCreationGrant(ctx, plane, creation) {
    if (!creation.needsGrant)
        return {};
    const firstParty = creation.kind === 'first-party';
    const principalId = firstParty
        ? await firstPartyPrincipalId(ctx)
        : creation.userAssigned?.principalId;
    const label = firstParty
        ? 'the Azure Cosmos DB service principal'
        : `user-assigned identity ${creation.userAssigned?.id}`;
    const role = hsmRoles.cryptoServiceEncryptionUser;
    const scope = keyScopeOf(ctx);
    if (!plane || !principalId) {
        notReadable(ctx, steps_names/* Step */.p.CosmosGrant, `assign '${role.name}' at ${scope} to ${label}`);
        return { principalId };
    }
    const grant = await ensureRoleAssignment(ctx, plane.rbac, {
        step: steps_names/* Step */.p.CosmosGrant,
        role,
        scope,
        principalId,
        principalLabel: label,
        // A user-assigned identity may have been created just before the run.
        mayBeNew: !firstParty,
        principalInput: firstParty
            ? ctx.inputs.identity.cosmosPrincipalId && 'cosmos-principal-id'
            : 'user-assigned-identity'
    });
    return { principalId, grant };
}
/** Grants an account's system-assigned identity the key (waiting for it to replicate). */
function ensureSystemGrant(ctx, rbac, principalId) {
    return ensureRoleAssignment(ctx, rbac, {
        step: steps_names/* Step */.p.SystemGrant,
        role: hsmRoles.cryptoServiceEncryptionUser,
        scope: keyScopeOf(ctx),
        principalId,
        principalLabel: "the account's system-assigned identity",
        mayBeNew: true
    });
}
/** The plan row of a step whose state cannot be read before the HSM exists and is active. */
function notReadable(ctx, step, action) {
    record(ctx, {
        step,
        observed: 'not readable until the HSM exists and is active',
        action,
        result: 'would-change'
    });
}

;// CONCATENATED MODULE: ./src/steps/bootstrap.ts








const bootstrap_STEP = steps_names/* Step */.p.Bootstrap;
function hostOf(uri) {
    try {
        return new URL(uri).host.toLowerCase();
    }
    catch {
        return '';
    }
}
/**
 * Removes the grant that let the bootstrap identity create the account, once the account is
 * verified on its system-assigned identity. Only the assignment under this action's deterministic
 * name is touched, and it is kept while another account of the subscription still reaches a key
 * through it. Answers the id of the removed assignment.
 */
async function removeBootstrapAssignment(ctx, removal) {
    const { rbac, account } = removal;
    const scope = keyScopeOf(ctx);
    if (!removal.verified || !rbac) {
        record(ctx, {
            step: bootstrap_STEP,
            observed: 'the account does not use SystemAssignedIdentity yet',
            action: 'remove the bootstrap grant once it does',
            result: ctx.plan ? 'would-change' : 'skipped'
        });
        return undefined;
    }
    const firstParty = ctx.inputs.identity.bootstrap === 'first-party';
    const principalId = firstParty
        ? await firstPartyPrincipalId(ctx)
        : removal.userAssignedIdentity?.principalId;
    if (!principalId)
        return undefined;
    const bootstrapIdentity = firstParty
        ? 'FirstPartyIdentity'
        : `UserAssignedIdentity=${removal.userAssignedIdentity?.id ?? ''}`;
    const role = hsmRoles.cryptoServiceEncryptionUser;
    const name = roleAssignmentName(ctx.inputs.hsm.name, scope, role.id, principalId);
    const existing = await rbac.get(scope, name);
    const ours = existing &&
        existing.principalId.toLowerCase() === principalId.toLowerCase() &&
        existing.roleDefinitionId.toLowerCase().endsWith(role.id);
    if (!existing || !ours) {
        record(ctx, { step: bootstrap_STEP, observed: `${name} absent`, action: 'none', result: 'ok' });
        return undefined;
    }
    // The same grant serves every account that reaches a key under its scope with that identity.
    let accounts;
    try {
        accounts = await ctx.apis.cosmos.list();
    }
    catch (error) {
        ctx.log.warning(`Keeping role assignment ${name}: the accounts of the subscription could not be listed to make sure ` +
            `no other account still needs it (${(0,errors/* describeError */.Uc)(error)}).`);
        record(ctx, {
            step: bootstrap_STEP,
            observed: `${name} present; other accounts could not be checked`,
            action: 'keep it',
            result: 'skipped'
        });
        return undefined;
    }
    const wholeKeys = scope === '/keys';
    const dependents = accounts.filter(other => other.id.toLowerCase() !== account.id.toLowerCase() &&
        !!other.keyVaultKeyUri &&
        hostOf(other.keyVaultKeyUri) === hostOf(removal.keyUri) &&
        (wholeKeys || sameKey(other.keyVaultKeyUri, removal.keyUri)) &&
        sameIdentity(other.defaultIdentity, bootstrapIdentity));
    if (dependents.length) {
        const names = dependents.map(d => d.name).join(', ');
        ctx.log.warning(`Keeping role assignment ${name}: Cosmos DB account(s) ${names} still use ${bootstrapIdentity} with a key under ${scope}.`);
        record(ctx, {
            step: bootstrap_STEP,
            observed: `${name} present, still used by ${names}`,
            action: 'keep it',
            result: 'skipped'
        });
        return undefined;
    }
    const action = `remove ${name} ('${role.name}' for ${principalId} at ${scope})`;
    if (ctx.plan) {
        record(ctx, { step: bootstrap_STEP, observed: `${name} present`, action, result: 'would-change' });
        return undefined;
    }
    await rbac.delete(scope, name);
    record(ctx, { step: bootstrap_STEP, observed: `${name} present`, action, result: 'changed' });
    return existing.id;
}

;// CONCATENATED MODULE: ./src/steps/hsm.ts



const hsm_STEP = steps_names/* Step */.p.Hsm;
function describeHsm(hsm) {
    return (`${hsm.provisioningState}, purge protection ${hsm.enablePurgeProtection ? 'on' : 'off'}, ` +
        `soft delete ${hsm.enableSoftDelete ? 'on' : 'off'}` +
        (hsm.softDeleteRetentionInDays ? ` (${hsm.softDeleteRetentionInDays} days)` : '') +
        `, ${hsm.activationStatus}`);
}
function isReady(hsm) {
    return /^(Succeeded|Activated)$/i.test(hsm.provisioningState);
}
/**
 * Creates the HSM if it is absent (and allowed), turns purge protection on if allowed, and waits
 * for it to be provisioned. Answers undefined in plan mode when the HSM does not exist yet.
 */
async function ensureHsm(ctx, observed) {
    const { inputs, apis } = ctx;
    const { name, resourceGroup } = inputs.hsm;
    let hsm = observed;
    if (!hsm) {
        const admins = [...new Set([...inputs.hsm.administrators, ctx.principal.objectId])];
        const action = `create ${inputs.hsm.sku} in ${inputs.location} with administrators ${admins.join(', ')}, soft delete ` +
            `(${inputs.hsm.retentionDays} days) and purge protection`;
        const billing = `billing starts at creation, and its purge protection cannot be turned off; a deleted HSM stays ` +
            `billed and counted against quota for ${inputs.hsm.retentionDays} days.`;
        if (ctx.plan) {
            ctx.log.warning(`Apply would create Managed HSM '${name}': ${billing}`);
            record(ctx, { step: hsm_STEP, observed: 'absent', action, result: 'would-change' });
            return undefined;
        }
        ctx.log.warning(`Creating Managed HSM '${name}': ${billing}`);
        try {
            hsm = await withHeartbeat(ctx, `creation of Managed HSM '${name}' (it usually takes 20-30 minutes)`, apis.managedHsms.create(resourceGroup, name, {
                location: inputs.location ?? '',
                skuName: inputs.hsm.sku,
                tenantId: ctx.principal.tenantId,
                initialAdminObjectIds: admins,
                softDeleteRetentionInDays: inputs.hsm.retentionDays,
                tags: ctx.tags
            }));
        }
        catch (error) {
            // A concurrent run may have created it: read back before failing.
            const again = (0,errors/* statusOf */.c2)(error) === 409 ? await apis.managedHsms.get(resourceGroup, name) : undefined;
            if (!again) {
                throw new errors/* ActionError */.lZ(`Creating Managed HSM '${name}' failed: ${(0,errors/* describeError */.Uc)(error)}`);
            }
            hsm = again;
        }
        record(ctx, { step: hsm_STEP, observed: 'absent', action, result: 'changed' });
    }
    else if (!hsm.enablePurgeProtection) {
        // preflight() already refused this unless enable-purge-protection is true.
        const action = 'turn purge protection on (irreversible)';
        if (ctx.plan) {
            record(ctx, { step: hsm_STEP, observed: describeHsm(hsm), action, result: 'would-change' });
            return hsm;
        }
        ctx.log.warning(`Turning purge protection on for Managed HSM '${name}'. This is irreversible: the HSM and its keys can ` +
            'no longer be purged before their retention period ends.');
        const before = describeHsm(hsm);
        hsm = await withHeartbeat(ctx, `purge protection update of Managed HSM '${name}'`, apis.managedHsms.enablePurgeProtection(resourceGroup, name));
        record(ctx, { step: hsm_STEP, observed: before, action, result: 'changed' });
    }
    else {
        record(ctx, { step: hsm_STEP, observed: describeHsm(hsm), action: 'none', result: 'ok' });
    }
    if (!isReady(hsm) && !ctx.plan)
        hsm = await waitUntilProvisioned(ctx, hsm);
    return hsm;
}
async function waitUntilProvisioned(ctx, current) {
    const { name, resourceGroup } = ctx.inputs.hsm;
    let last = current;
    return waitIn(ctx, {
        what: `Managed HSM '${name}' to finish provisioning`,
        kind: 'operation',
        timeoutMs: ctx.waits.hsmProvisioningMs,
        hint: `Check the HSM in the portal or run: az keyvault show --hsm-name ${name} --resource-group ${resourceGroup}`,
        poll: async () => {
            const hsm = await ctx.apis.managedHsms.get(resourceGroup, name);
            if (!hsm)
                throw new errors/* ActionError */.lZ(`Managed HSM '${name}' disappeared while it was being provisioned.`);
            last = hsm;
            if (isReady(hsm))
                return { done: true, value: hsm };
            if (/^(Failed|Deleting)$/i.test(hsm.provisioningState)) {
                throw new errors/* ActionError */.lZ(`Managed HSM '${name}' ended in provisioning state ${hsm.provisioningState}` +
                    `${hsm.statusMessage ? `: ${hsm.statusMessage}` : ''}.`);
            }
            return { done: false, status: `provisioningState ${last.provisioningState}` };
        }
    });
}

;// CONCATENATED MODULE: ./src/steps/identity.ts






/** Adds a user-assigned identity to an existing account (kept apart from any default identity change). */
async function ensureUserAssignedAttached(ctx, account, identityId) {
    if (hasUserAssigned(account, identityId))
        return account;
    const type = hasSystemAssigned(account) ? 'SystemAssigned,UserAssigned' : 'UserAssigned';
    const observed = `identity ${account.identity.type}`;
    const action = `attach user-assigned identity ${identityId}`;
    if (ctx.plan) {
        record(ctx, { step: steps_names/* Step */.p.AccountIdentity, observed, action, result: 'would-change' });
        return account;
    }
    const updated = await updateAccount(ctx, account.name, `identity update of Cosmos DB account '${account.name}'`, { identity: { type, userAssignedIdentityIds: [...userAssignedIds(account), identityId] } }, a => hasUserAssigned(a, identityId));
    record(ctx, { step: steps_names/* Step */.p.AccountIdentity, observed, action, result: 'changed' });
    return updated;
}
/**
 * One account update, repeated while another operation holds the account's lock. Before each
 * repetition the account is read again, and the update is skipped when `applied` says the change
 * is there already (made by a parallel run, or by an attempt of ours whose answer was lost).
 */
function updateAccount(ctx, name, what, patch, applied) {
    const rg = ctx.inputs.resourceGroup;
    return writeOnce(ctx, {
        what: `Cosmos DB account '${name}' to accept an update`,
        timeoutMs: ctx.waits.accountProvisioningMs,
        hint: `Check what else changes the account: az cosmosdb show --name ${name} --resource-group ${rg}`,
        landed: async () => {
            const current = await ctx.apis.cosmos.get(rg, name);
            return current && applied(current) ? current : undefined;
        },
        write: () => withHeartbeat(ctx, what, ctx.apis.cosmos.update(rg, name, patch)),
        retryable: error => ((0,errors/* isOperationInProgress */.iT)(error) ? inProgress : undefined)
    });
}
/**
 * Sets the account's default identity in an update of its own (changing it together with the
 * identity can be ignored silently by the service), retried while the identity cannot reach the
 * key yet, and read back until the account reports it.
 */
async function ensureDefaultIdentity(ctx, account, desired) {
    const observed = account.defaultIdentity ?? 'none';
    if (sameIdentity(account.defaultIdentity, desired)) {
        record(ctx, { step: steps_names/* Step */.p.DefaultIdentity, observed, action: 'none', result: 'ok' });
        return account;
    }
    const action = `set to ${desired}`;
    if (ctx.plan) {
        record(ctx, { step: steps_names/* Step */.p.DefaultIdentity, observed, action, result: 'would-change' });
        return account;
    }
    const rg = ctx.inputs.resourceGroup;
    const readIfSet = async () => {
        const current = await ctx.apis.cosmos.get(rg, account.name);
        return current && sameIdentity(current.defaultIdentity, desired) ? current : undefined;
    };
    const verified = await writeOnce(ctx, {
        what: `Cosmos DB account '${account.name}' to use ${desired}`,
        timeoutMs: ctx.waits.keyAccessMs,
        hint: keyAccessHint,
        landed: readIfSet,
        write: async () => {
            const updated = await withHeartbeat(ctx, `default identity update of Cosmos DB account '${account.name}'`, ctx.apis.cosmos.update(rg, account.name, { defaultIdentity: desired }));
            // The operation's final answer is a read of the account once the update ended.
            if (sameIdentity(updated.defaultIdentity, desired))
                return updated;
            const readBack = await readIfSet();
            if (!readBack)
                throw new NotYetVisible(updated.defaultIdentity ?? 'none');
            return readBack;
        },
        retryable: error => {
            if (error instanceof NotYetVisible)
                return `the account still reports ${error.observed}`;
            if ((0,errors/* isKeyAccessPending */.jJ)(error))
                return keyAccessPending;
            return (0,errors/* isOperationInProgress */.iT)(error) ? inProgress : undefined;
        }
    });
    record(ctx, { step: steps_names/* Step */.p.DefaultIdentity, observed, action, result: 'changed' });
    return verified;
}

;// CONCATENATED MODULE: ./src/modes/step-graph.ts
/**
 * A mode's steps and what each needs: every step starts once the steps it needs have produced
 * their results, and steps whose needs are met run side by side. A step that fails stops the
 * steps that need it (directly or not); the others run to their end, so that nothing is left
 * running unseen, and the first failure is thrown once every step has settled.
 *
 * A step is added after the steps it needs, so a graph cannot have a cycle, and its work sees only
 * the results it named: `graph.add('key', ['hsm'], ({ hsm }) => ...)`.
 */
class StepGraph {
    steps = [];
    add(name, needs, work) {
        if (this.steps.some(s => s.name === name)) {
            throw new Error(`Step '${name}' is in the graph already.`);
        }
        const missing = needs.filter(need => !this.steps.some(s => s.name === need));
        if (missing.length) {
            throw new Error(`Step '${name}' needs ${missing.join(', ')}, which no earlier step is.`);
        }
        this.steps.push({
            name,
            needs: [...needs],
            work: work
        });
        return this;
    }
    /** The steps' names, in the order they were added. */
    get names() {
        return this.steps.map(s => s.name);
    }
    /** Every step's result, by name. */
    async run() {
        const done = {};
        const running = new Map();
        let first;
        for (const step of this.steps) {
            const needed = step.needs.map(need => running.get(need));
            const result = Promise.all(needed).then(async () => {
                const value = await step.work(Object.fromEntries(step.needs.map(n => [n, done[n]])));
                done[step.name] = value;
                return value;
            });
            // The first failure in time, not in the order of the steps.
            result.catch((error) => (first ??= { error }));
            running.set(step.name, result);
        }
        await Promise.allSettled(running.values());
        if (first)
            throw first.error;
        return done;
    }
}

;// CONCATENATED MODULE: ./src/steps/observe.ts





function requiredNamespaces(inputs) {
    const namespaces = ['Microsoft.DocumentDB', 'Microsoft.KeyVault'];
    if (inputs.identity.userAssignedIdentity)
        namespaces.push('Microsoft.ManagedIdentity');
    return namespaces;
}
/** Every read that depends on nothing else, in parallel; `early` learns each as it arrives. */
async function observe(ctx, early = {}) {
    const { inputs, apis } = ctx;
    const uai = inputs.identity.userAssignedIdentity;
    const observeHsm = async () => {
        // Read ahead by the run while it signed in, or now; one observation takes them.
        const early = ctx.dataPlaneAhead ?? readDataPlaneAhead(ctx);
        ctx.dataPlaneAhead = undefined;
        try {
            const hsm = await apis.managedHsms.get(inputs.hsm.resourceGroup, inputs.hsm.name);
            if (hsm && hsm.activationStatus !== 'Active') {
                return { hsm, securityDomainDownload: await downloadStatus(ctx, hsm) };
            }
            if (hsm?.activationStatus !== 'Active')
                return { hsm };
            const hsmUri = dataPlaneUri(ctx, hsm);
            const [key, adminGrants] = await (early?.at(hsmUri) ?? dataPlaneReads(ctx, hsmUri));
            const rotationPolicy = key?.key ? await readablePolicy(ctx, hsm, key.key) : undefined;
            return { hsm, key, adminGrants, rotationPolicy };
        }
        finally {
            early?.cancel();
        }
    };
    const [providers, { hsm, key, adminGrants, securityDomainDownload, rotationPolicy }, userAssignedIdentity, accounts] = await Promise.all([
        Promise.all(requiredNamespaces(inputs).map(ns => apis.providers.get(ns))),
        observeHsm(),
        uai
            ? apis.identities.getUserAssigned(uai.subscriptionId, uai.resourceGroup, uai.name)
            : undefined,
        readAccounts(ctx, early)
    ]);
    return {
        providers,
        hsm,
        userAssignedIdentity,
        account: accounts.get(inputs.account.name),
        accounts,
        key,
        adminGrants,
        securityDomainDownload,
        rotationPolicy
    };
}
/** The key and the signed-in principal's grants at /keys, as far as they can be read yet. */
function dataPlaneReads(view, hsmUri, signal) {
    return Promise.all([readableKey(view, hsmUri, signal), readableGrants(view, hsmUri, signal)]);
}
/**
 * The data-plane reads, started before ARM has answered from the host the HSM's name gives, for
 * an HSM the inputs say exists (not `create-hsm`): they count when ARM answers that the HSM is
 * active at that host (`at`), and are cancelled otherwise, so that nothing keeps retrying a host
 * that does not answer.
 */
function readDataPlaneAhead(view) {
    if (view.inputs.hsm.create)
        return undefined;
    const guessed = hsmBaseUri(view.cloud, view.inputs.hsm.name);
    const controller = new AbortController();
    const reads = dataPlaneReads(view, guessed, controller.signal);
    // Awaited only when they count; until then a refusal is not this run's failure.
    reads.catch(() => { });
    let counted = false;
    return {
        at: (hsmUri) => {
            counted = hsmUri.toLowerCase() === guessed.toLowerCase();
            return counted ? reads : undefined;
        },
        cancel: () => {
            if (!counted)
                controller.abort();
        }
    };
}
/** Every account of the run, `account-concurrency` reads at a time. */
async function readAccounts(ctx, early) {
    const { inputs, apis } = ctx;
    const names = (0,settings/* accountNames */.Er)(inputs);
    const states = await mapLimited(names, inputs.account.concurrency, async (name) => {
        const account = await apis.cosmos.get(inputs.resourceGroup, name);
        early.account?.(name, account);
        return account;
    });
    return new Map(names.map((name, i) => [name, states[i]]));
}
/**
 * The download under way on a provisioned HSM that is not active, read only when this run would
 * activate it; undefined when there is none or the data plane does not answer yet.
 */
async function downloadStatus(ctx, hsm) {
    if (!ctx.inputs.securityDomain || !/^(Succeeded|Activated)$/i.test(hsm.provisioningState)) {
        return undefined;
    }
    try {
        return await ctx.apis.hsm(dataPlaneUri(ctx, hsm)).securityDomain.downloadStatus();
    }
    catch {
        return undefined;
    }
}
/** The rotation policy, read only when `rotate-key` needs one to exist; undefined if unreadable. */
async function readablePolicy(ctx, hsm, key) {
    if (!ctx.inputs.key.rotateNow || ctx.inputs.key.rotation)
        return undefined;
    try {
        return (await ctx.apis.hsm(dataPlaneUri(ctx, hsm)).keys.getRotationPolicy(key.name)) ?? null;
    }
    catch (error) {
        if ((0,errors/* isRbacDenied */.k4)(error))
            return undefined;
        throw error;
    }
}
/** The signed-in principal's assignments at /keys; undefined when they cannot be read (yet). */
async function readableGrants(view, hsmUri, signal) {
    const { objectId } = await view.principal;
    try {
        return await view.apis.hsm(hsmUri).rbac.listForPrincipal('/keys', objectId, { signal });
    }
    catch (error) {
        // The grant step reads again and explains a refusal.
        if ((0,errors/* statusOf */.c2)(error) === 403)
            return undefined;
        throw error;
    }
}
/**
 * The key, if the signed-in principal may read it already (e.g. on a re-run), so that a key
 * Cosmos DB cannot use is refused before anything is written. Undefined while access is denied.
 */
async function readableKey(view, hsmUri, signal) {
    try {
        return { key: await view.apis.hsm(hsmUri).keys.get(view.inputs.key.name, { signal }) };
    }
    catch (error) {
        if ((0,errors/* isRbacDenied */.k4)(error))
            return undefined;
        throw error;
    }
}

;// CONCATENATED MODULE: ./src/steps/permissions.ts


/**
 * The caller's permissions, read once per scope; undefined where they cannot be read.
 */
class PermissionReads {
    ctx;
    reads = new Map();
    constructor(ctx) {
        this.ctx = ctx;
    }
    at(scope) {
        const key = scope.toLowerCase();
        let read = this.reads.get(key);
        if (!read) {
            read = this.ctx.apis.permissions.at(scope).catch(() => undefined);
            this.reads.set(key, read);
        }
        return read;
    }
    /**
     * Starts, alongside the observation, the reads of every scope where a run that creates its
     * account writes: the subscription (provider registrations), the account's resource group and
     * the user-assigned identity. A run that finds everything in place has spent up to three reads;
     * one that creates has its check ready as the observation ends, a round trip before its first
     * write. None in plan mode.
     */
    startCreations() {
        const { inputs, plan } = this.ctx;
        if (plan)
            return;
        this.at(subscriptionScope(inputs.subscriptionId));
        this.at(groupScope(inputs.subscriptionId, inputs.resourceGroup));
        const uai = inputs.identity.userAssignedIdentity;
        if (uai)
            this.at(uai.id);
    }
}
/**
 * The ARM actions the writes that the observation calls for need, with the caller's permissions
 * at each scope read side by side; answers one message per missing action. A scope whose
 * permissions cannot be read is left to the write itself. Plan mode checks nothing: plans often
 * run under a read-only identity.
 */
async function missingPermissions(ctx, seen, reads = new PermissionReads(ctx)) {
    if (ctx.plan)
        return [];
    const needed = neededPermissions(ctx, seen);
    const scopes = [...new Set(needed.map(n => n.scope))];
    const granted = new Map(await Promise.all(scopes.map(async (scope) => [scope, await reads.at(scope)])));
    const messages = needed
        .filter(n => {
        const permissions = granted.get(n.scope);
        return permissions !== undefined && !allows(permissions, n.action);
    })
        .map(n => `The signed-in principal ${ctx.principal.objectId} may not perform ${n.action} on ${n.where}, ` +
        `which it needs to ${n.why}. A role that grants it: ${n.role}.`);
    // The accounts of a fleet that are created all need the same action at the resource group.
    return [...new Set(messages)];
}
const subscriptionScope = (subscriptionId) => `/subscriptions/${subscriptionId}`;
const groupScope = (subscriptionId, name) => `${subscriptionScope(subscriptionId)}/resourceGroups/${name}`;
const unregistered = (provider) => !/^(registered|registering)$/i.test(provider.registrationState);
function neededPermissions(ctx, seen) {
    const { inputs } = ctx;
    const subscription = subscriptionScope(inputs.subscriptionId);
    const group = (name) => groupScope(inputs.subscriptionId, name);
    const needed = [];
    const need = (scope, where, action, why, role) => needed.push({ scope, where, action, why, role });
    for (const provider of seen.providers) {
        if (!unregistered(provider))
            continue;
        need(subscription, `subscription ${inputs.subscriptionId}`, `${provider.namespace}/register/action`, `register the ${provider.namespace} resource provider`, 'Contributor on the subscription');
    }
    const hsm = seen.hsm;
    const hsmGroup = group(inputs.hsm.resourceGroup);
    const hsmScope = hsm ? hsm.id : hsmGroup;
    const hsmWhere = hsm
        ? `Managed HSM '${hsm.name}'`
        : `resource group '${inputs.hsm.resourceGroup}'`;
    if (!hsm && inputs.hsm.create) {
        need(hsmGroup, hsmWhere, 'Microsoft.KeyVault/managedHSMs/write', 'create the Managed HSM', 'Managed HSM Contributor');
    }
    if (hsm && !hsm.enablePurgeProtection) {
        need(hsmScope, hsmWhere, 'Microsoft.KeyVault/managedHSMs/write', 'turn purge protection on', 'Managed HSM Contributor');
    }
    if ((!hsm && inputs.hsm.create) || (hsm && hsm.activationStatus !== 'Active')) {
        need(hsmScope, hsmWhere, 'Microsoft.Resources/tags/write', 'record on the HSM whether its security domain was saved', 'Tag Contributor');
    }
    const uai = inputs.identity.userAssignedIdentity;
    for (const account of seen.accounts.values()) {
        if (account && !accountNeedsUpdate(ctx, seen, account))
            continue;
        need(account ? account.id : group(inputs.resourceGroup), account ? `Cosmos DB account '${account.name}'` : `resource group '${inputs.resourceGroup}'`, 'Microsoft.DocumentDB/databaseAccounts/write', account ? 'update the Cosmos DB account' : 'create the Cosmos DB account', 'DocumentDB Account Contributor');
        if (uai) {
            need(uai.id, `user-assigned identity '${uai.name}'`, 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', 'give the identity to the Cosmos DB account', 'Managed Identity Operator on the identity');
        }
    }
    return needed;
}
/** Whether an existing account's identities differ from what `identity-mode` asks for. */
function accountNeedsUpdate(ctx, seen, account) {
    const { mode, userAssignedIdentity } = ctx.inputs.identity;
    switch (mode) {
        case 'first-party':
            return !sameIdentity(account.defaultIdentity, 'FirstPartyIdentity');
        case 'user-assigned':
            return !sameIdentity(account.defaultIdentity, `UserAssignedIdentity=${seen.userAssignedIdentity?.id ?? userAssignedIdentity?.id ?? ''}`);
        case 'system-assigned':
            return !sameIdentity(account.defaultIdentity, 'SystemAssignedIdentity');
    }
}

;// CONCATENATED MODULE: ./src/steps/preflight.ts







/**
 * Everything that would make the run fail, found from the observation alone and reported
 * together before the first write. In a fleet, an account that cannot succeed is answered (name:
 * why) and the others go on; the run is refused only when none could.
 */
function preflight(ctx, seen, 
/** ARM permissions the run's writes need and the caller lacks (see permissions.ts). */
missing = []) {
    const { inputs } = ctx;
    const problems = [];
    const { hsm } = seen;
    const hsmWhere = `resource group '${inputs.hsm.resourceGroup}' of subscription ${inputs.subscriptionId}`;
    if (!hsm) {
        if (!inputs.hsm.create) {
            problems.push(`Managed HSM '${inputs.hsm.name}' does not exist in ${hsmWhere}. Check hsm-name and hsm-resource-group, ` +
                'or set create-hsm: true to create it (billing starts at creation).');
        }
        else {
            if (!inputs.location) {
                problems.push(`Input 'location' is required to create Managed HSM '${inputs.hsm.name}'.`);
            }
            if (!inputs.securityDomain)
                problems.push(activationSteps(inputs.hsm.name, inputs.hsm.resourceGroup));
        }
    }
    else {
        if (!hsm.enableSoftDelete) {
            problems.push(`Managed HSM '${hsm.name}' has soft delete turned off; Azure Cosmos DB requires it.`);
        }
        if (/^(Failed|Deleting)$/i.test(hsm.provisioningState)) {
            problems.push(`Managed HSM '${hsm.name}' is in provisioning state ${hsm.provisioningState}` +
                `${hsm.statusMessage ? `: ${hsm.statusMessage}` : ''}.`);
        }
        if (!hsm.enablePurgeProtection && !inputs.hsm.enablePurgeProtection) {
            problems.push(`Managed HSM '${hsm.name}' does not have purge protection, which Azure Cosmos DB requires for ` +
                'customer-managed keys. Turning it on is irreversible. Set enable-purge-protection: true to let this ' +
                `action turn it on, or run: az keyvault update-hsm --hsm-name ${hsm.name} --resource-group ` +
                `${inputs.hsm.resourceGroup} --enable-purge-protection true`);
        }
        if (hsm.activationStatus !== 'Active' && !inputs.securityDomain) {
            problems.push(activationSteps(hsm.name, inputs.hsm.resourceGroup));
        }
    }
    problems.push(...securityDomainProblems(ctx, hsm, seen.securityDomainDownload));
    problems.push(...regionProblems(ctx, seen));
    problems.push(...hsmRoleProblems(ctx, seen));
    problems.push(...missing);
    if (seen.rotationPolicy === null) {
        problems.push(`rotate-key is true, but key '${inputs.key.name}' has no rotation policy, which Managed HSM needs before ` +
            'it rotates a key on demand. Set key-rotate-after (and key-expire-after) to give it one.');
    }
    const existingKey = seen.key?.key;
    const keyProblem = existingKey && unusableKeyMessage(ctx, existingKey);
    if (keyProblem)
        problems.push(keyProblem);
    const uai = inputs.identity.userAssignedIdentity;
    if (uai && !seen.userAssignedIdentity) {
        problems.push(`User-assigned identity '${uai.id}' was not found. This action does not create identities: create it ` +
            `first (az identity create --resource-group ${uai.resourceGroup} --name ${uai.name}), or fix ` +
            'user-assigned-identity.');
    }
    const refused = new Map();
    for (const [name, account] of seen.accounts) {
        const own = accountProblems(ctx, name, account, hsm);
        if (seen.accounts.size === 1)
            problems.push(...own);
        else if (own.length)
            refused.set(name, own.join(' '));
    }
    if (refused.size && refused.size === seen.accounts.size)
        problems.push(...refused.values());
    if (problems.length) {
        throw new errors/* ActionError */.lZ(problems.length === 1
            ? problems[0]
            : `Nothing was changed, because:\n${problems.map(p => `- ${p}`).join('\n')}`);
    }
    return refused;
}
/** Why the run cannot bring one account onto the key, if it cannot. */
function accountProblems(ctx, name, account, hsm) {
    const { inputs } = ctx;
    const wantedKey = runKeyUri(ctx, hsm);
    if (!account) {
        return inputs.account.locations.length
            ? []
            : [
                `Input 'location' (or 'account-locations') is required to create Cosmos DB account '${name}'.`
            ];
    }
    const problems = [];
    if (!account.keyVaultKeyUri) {
        problems.push(...enableProblems(ctx, account, wantedKey));
    }
    else if (!sameKey(account.keyVaultKeyUri, wantedKey)) {
        if (!inputs.account.keySwitch) {
            problems.push(`Cosmos DB account '${account.name}' is encrypted with key ${account.keyVaultKeyUri}, not ${wantedKey}. ` +
                'Check hsm-name, key-name and account-name; to move the account to this key, set key-switch: true.');
        }
    }
    else if (isVersioned(account.keyVaultKeyUri)) {
        ctx.log.warning(`Cosmos DB account '${account.name}' pins a key version (${account.keyVaultKeyUri}); new key versions will not be used.`);
    }
    const wantedKind = inputs.account.api === 'mongodb' ? 'MongoDB' : 'GlobalDocumentDB';
    if (account.kind && account.kind !== wantedKind) {
        ctx.log.warning(`Cosmos DB account '${account.name}' is of kind ${account.kind}, not ${wantedKind} as api '${inputs.account.api}' implies; it is left as it is.`);
    }
    return problems;
}
/** Regions where something would be created but that the subscription is not offered. */
function regionProblems(ctx, seen) {
    const { inputs } = ctx;
    const offered = (namespace, type) => seen.providers.find(p => p.namespace.toLowerCase() === namespace.toLowerCase())?.locations?.[type];
    const check = (input, where, what, regions) => regions?.length
        ? where
            .filter(location => !regions.includes(location))
            .map(location => `Input '${input}' is '${location}': ${what} is not offered in that region for subscription ` +
            `${inputs.subscriptionId}. It is offered in: ${regions.join(', ')}.`)
        : [];
    const problems = [];
    if (!seen.hsm && inputs.hsm.create && inputs.location) {
        problems.push(...check('location', [inputs.location], 'Managed HSM', offered('Microsoft.KeyVault', 'managedhsms')));
    }
    if ([...seen.accounts.values()].some(account => !account)) {
        const fromLocation = inputs.account.locations.length === 1 && inputs.account.locations[0] === inputs.location;
        const input = fromLocation ? 'location' : 'account-locations';
        problems.push(...check(input, inputs.account.locations, 'Azure Cosmos DB', offered('Microsoft.DocumentDB', 'databaseaccounts')));
    }
    return problems;
}
/**
 * Whether the caller may create the HSM role assignments it needs, told from the roles it holds:
 * refused only on evidence (the assignments cannot be read, or every role held is a built-in one
 * that may not assign roles), never on a custom role this action cannot judge. Plan mode checks
 * nothing (plans often run under a read-only identity).
 */
function hsmRoleProblems(ctx, seen) {
    const { hsm, adminGrants } = seen;
    if (ctx.plan || hsm?.activationStatus !== 'Active')
        return [];
    const name = ctx.inputs.hsm.name;
    const fix = `It needs 'Managed HSM Administrator' (or 'Managed HSM Policy Administrator') at '/': ask an HSM administrator to run ` +
        `az keyvault role assignment create --hsm-name ${name} --role "Managed HSM Administrator" ` +
        `--assignee-object-id ${ctx.principal.objectId} --scope /`;
    if (!adminGrants) {
        return [
            `The signed-in principal ${ctx.principal.objectId} may not read the role assignments of Managed HSM '${name}'. ${fix}`
        ];
    }
    const held = adminGrants
        .filter(a => scopeCovers(a.scope, '/keys'))
        .map(a => roleGuidOf(a.roleDefinitionId));
    const granted = held.includes(hsmRoles.cryptoUser.id);
    const initialAdmin = hsm.initialAdminObjectIds.some(id => id.toLowerCase() === ctx.principal.objectId.toLowerCase());
    // No role at all may still be an administrator's implicit one: only built-ins tell for sure.
    const cannotAssign = held.length > 0 && held.every(role => nonAssigningRoles.has(role));
    if (granted || initialAdmin || !cannotAssign)
        return [];
    return [
        `The signed-in principal ${ctx.principal.objectId} holds no role on Managed HSM '${name}' that may create the ` +
            `role assignments this run needs (it holds: ${held.join(', ')}). ${fix}`
    ];
}
/** Capabilities with which Azure Cosmos DB cannot turn customer-managed keys on in place. */
const blockingCapabilities = {
    enablecassandra: 'the Cassandra API',
    enablenosqlvectorsearch: 'vector search',
    enablematerializedviews: 'materialized views',
    enableallversionsanddeleteschangefeed: 'the all-versions-and-deletes change feed'
};
/** Why customer-managed keys cannot be turned on for an existing account, if they cannot. */
function enableProblems(ctx, account, wantedKey) {
    const { inputs } = ctx;
    const name = account.name;
    if (!inputs.account.enableOnExisting) {
        return [
            `Cosmos DB account '${name}' exists without a customer-managed key. Turning one on is irreversible and ` +
                `re-encrypts every document in the background (${enableConsequences}). Set enable-on-existing: true to ` +
                'do it, or choose another account-name.'
        ];
    }
    const problems = account.capabilities
        .map(c => blockingCapabilities[c.toLowerCase()])
        .filter((what) => !!what)
        .map(what => `Cosmos DB account '${name}' uses ${what}, with which Azure Cosmos DB does not support turning ` +
        'customer-managed keys on for an existing account. Create a new account with the key instead.');
    const dedicatedStorage = account.backupPolicyType?.toLowerCase() === 'continuous' || !!account.enableAnalyticalStorage;
    const firstParty = !account.defaultIdentity || /^FirstPartyIdentity$/i.test(account.defaultIdentity);
    if (dedicatedStorage && firstParty && inputs.identity.mode === 'first-party') {
        const feature = account.enableAnalyticalStorage ? 'an analytical store' : 'continuous backup';
        problems.push(`Cosmos DB account '${name}' has ${feature}, and its default identity is FirstPartyIdentity: Azure Cosmos DB ` +
            'turns customer-managed keys on for such an account only with a managed identity as default identity. ' +
            "Set identity-mode 'system-assigned' or 'user-assigned': this action switches the account to it, grants " +
            `it the key, and then turns the key on (${wantedKey}), in the same run.`);
    }
    return problems;
}

;// CONCATENATED MODULE: ./src/steps/providers.ts



const providers_STEP = steps_names/* Step */.p.Providers;
/**
 * Starts registering the namespaces the run needs and waiting until Azure reports them Registered,
 * without blocking: Azure needs a namespace registered only for the writes into it, so the steps
 * that do not write there go on meanwhile.
 */
function ensureProviders(ctx, observed) {
    const pending = observed.filter(p => p.registrationState.toLowerCase() !== 'registered');
    const summary = observed.map(p => `${p.namespace} ${p.registrationState}`).join(', ');
    if (!pending.length || ctx.plan) {
        record(ctx, {
            step: providers_STEP,
            observed: summary,
            action: pending.length ? `register ${pending.map(p => p.namespace).join(', ')}` : 'none',
            result: pending.length ? 'would-change' : 'ok'
        });
        return {
            ready: () => Promise.resolve(),
            done: () => Promise.resolve(),
            failed: new Promise(() => { })
        };
    }
    const running = new Map();
    for (const provider of pending) {
        const registration = registerAndWait(ctx, provider);
        // Joined later; a failure must not surface as an unhandled rejection meanwhile.
        registration.catch(() => { });
        running.set(provider.namespace.toLowerCase(), registration);
    }
    let all;
    const failed = new Promise((_, reject) => {
        for (const registration of running.values())
            registration.catch(reject);
    });
    failed.catch(() => { });
    return {
        failed,
        ready: namespace => running.get(namespace.toLowerCase()) ?? Promise.resolve(),
        done: () => (all ??= Promise.all(running.values()).then(() => undefined))
    };
}
async function registerAndWait(ctx, provider) {
    const { namespace } = provider;
    // A provider already Registering needs no second request, only waiting.
    if (provider.registrationState.toLowerCase() !== 'registering') {
        try {
            const answer = await ctx.apis.providers.register(namespace);
            // Recorded as soon as it is sent, so that a run failing later still shows this write.
            record(ctx, {
                step: providers_STEP,
                observed: `${namespace} ${provider.registrationState}`,
                action: `register ${namespace}`,
                result: 'changed'
            });
            if (answer.registrationState.toLowerCase() === 'registered')
                return;
        }
        catch (error) {
            if ((0,errors/* statusOf */.c2)(error) === 403) {
                throw new errors/* ActionError */.lZ(`The subscription is not registered for ${namespace} and the signed-in principal may not register it ` +
                    `(${(0,errors/* describeError */.Uc)(error)}). Ask a subscription owner to run: az provider register --namespace ${namespace} ` +
                    `--subscription ${ctx.inputs.subscriptionId}`);
            }
            throw error;
        }
    }
    await waitIn(ctx, {
        what: `resource provider ${namespace} to be registered`,
        kind: 'propagation',
        timeoutMs: ctx.waits.providerRegistrationMs,
        hint: `Check the provider in the portal (Subscription > Resource providers) or run: az provider show --namespace ${namespace} --query registrationState`,
        poll: async () => {
            const state = await ctx.apis.providers.get(namespace);
            return state.registrationState.toLowerCase() === 'registered'
                ? { done: true, value: undefined }
                : { done: false, status: `registrationState ${state.registrationState}` };
        }
    });
}

;// CONCATENATED MODULE: ./src/steps/system-identity.ts







const SYSTEM_ASSIGNED = 'SystemAssignedIdentity';
/**
 * The system-assigned identity exists once its account's creation is accepted: its grant starts
 * then, while the creation runs, and the switch joins it later.
 */
class EarlySystemGrant {
    ctx;
    rbac;
    attribute;
    started;
    constructor(ctx, rbac, attribute) {
        this.ctx = ctx;
        this.rbac = rbac;
        this.attribute = attribute;
    }
    /** Starts the grant for the principal the creation reported (once). */
    created = (principalId) => {
        if (this.started || !this.rbac)
            return;
        const rbac = this.rbac;
        const grant = this.attribute(() => ensureSystemGrant(this.ctx, rbac, principalId));
        grant.catch(() => { });
        this.started = { principalId, grant };
    };
    /** The grant started for this principal, if any. */
    for(principalId) {
        const started = this.started;
        return started && started.principalId.toLowerCase() === principalId.toLowerCase()
            ? started.grant
            : undefined;
    }
}
/** The plan rows of an account that does not exist yet. */
function planSystemAssigned(ctx) {
    record(ctx, {
        step: steps_names/* Step */.p.SystemIdentity,
        observed: 'account not created yet',
        action: `enable, assign '${hsmRoles.cryptoServiceEncryptionUser.name}' at ${keyScopeOf(ctx)}, set default identity ${SYSTEM_ASSIGNED}`,
        result: 'would-change'
    });
}
/**
 * Switches an account to its system-assigned identity: enables it (keeping user-assigned ones),
 * grants it the key, then sets the default identity in a separate update and reads it back.
 */
async function ensureSystemAssigned(ctx, account, rbac, early) {
    const enabled = await ensureEnabled(ctx, account);
    if (!enabled)
        return { account, verified: false };
    const principalId = enabled.identity.principalId;
    const started = early?.for(principalId);
    const grant = started
        ? await started
        : rbac
            ? await ensureSystemGrant(ctx, rbac, principalId)
            : undefined;
    if (ctx.plan && !grant?.assignment) {
        const already = sameIdentity(enabled.defaultIdentity, SYSTEM_ASSIGNED);
        record(ctx, {
            step: steps_names/* Step */.p.DefaultIdentity,
            observed: enabled.defaultIdentity ?? 'none',
            action: already ? 'none' : `set to ${SYSTEM_ASSIGNED}`,
            result: already ? 'ok' : 'would-change'
        });
        return { account: enabled, principalId, grant, verified: false };
    }
    const current = await ensureDefaultIdentity(ctx, enabled, SYSTEM_ASSIGNED);
    return {
        account: current,
        principalId,
        grant,
        verified: sameIdentity(current.defaultIdentity, SYSTEM_ASSIGNED)
    };
}
/** The account with its system-assigned identity on; undefined in plan mode when it would be enabled. */
async function ensureEnabled(ctx, account) {
    if (hasSystemAssigned(account) && account.identity.principalId) {
        record(ctx, {
            step: steps_names/* Step */.p.SystemIdentity,
            observed: `enabled, principal ${account.identity.principalId}`,
            action: 'none',
            result: 'ok'
        });
        return account;
    }
    const ids = userAssignedIds(account);
    const type = ids.length ? 'SystemAssigned,UserAssigned' : 'SystemAssigned';
    const action = `enable (identity type ${type})`;
    const observed = `identity ${account.identity.type}`;
    if (ctx.plan) {
        record(ctx, { step: steps_names/* Step */.p.SystemIdentity, observed, action, result: 'would-change' });
        record(ctx, {
            step: steps_names/* Step */.p.SystemGrant,
            observed: 'principal not created yet',
            action: `assign '${hsmRoles.cryptoServiceEncryptionUser.name}' at ${keyScopeOf(ctx)}`,
            result: 'would-change'
        });
        record(ctx, {
            step: steps_names/* Step */.p.DefaultIdentity,
            observed: account.defaultIdentity ?? 'none',
            action: `set to ${SYSTEM_ASSIGNED}`,
            result: 'would-change'
        });
        return undefined;
    }
    const name = account.name;
    let current = await updateAccount(ctx, name, `enabling the system-assigned identity of Cosmos DB account '${name}'`, { identity: { type, userAssignedIdentityIds: ids } }, a => hasSystemAssigned(a) && !!a.identity.principalId);
    if (!current.identity.principalId) {
        current = (await ctx.apis.cosmos.get(ctx.inputs.resourceGroup, name)) ?? current;
    }
    if (!current.identity.principalId) {
        throw new errors/* ActionError */.lZ(`Cosmos DB account '${name}' reports no system-assigned principal after enabling it.`);
    }
    record(ctx, {
        step: steps_names/* Step */.p.SystemIdentity,
        observed,
        action: `${action}: principal ${current.identity.principalId}`,
        result: 'changed'
    });
    return current;
}

;// CONCATENATED MODULE: ./src/modes/apply.ts





















/**
 * One call per phase, each returning what it produced; the phases that can overlap do. The
 * accounts come last: one in its own log groups, or a fleet `account-concurrency` at a time (mode
 * prepare: none, for the jobs of a matrix to do).
 */
async function provision(ctx, phases) {
    const shared = await prepare(ctx, phases);
    const fleet = (0,settings/* accountNames */.Er)(ctx.inputs).length !== 1;
    const { outcomes, removed } = fleet
        ? await provisionFleet(ctx, phases, shared)
        : oneAccount(await provisionAccount(ctx, phases, shared, { removeBootstrap: true }));
    await shared.providers.done();
    const failed = outcomes.filter(o => o.failure);
    const outputs = outputsOf(ctx, shared, { outcomes, removed }, fleet);
    if (failed.length)
        throw new FleetFailure(failed, outcomes.length, outputs);
    return outputs;
}
/** Sign-in is done: the providers, the HSM and its activation, the admin grant, the key and its grant. */
async function prepare(ctx, phases) {
    const { phase } = phases;
    const { observed, providers, activated, access } = await new StepGraph()
        .add('observed', [], () => phase(steps_names/* Step */.p.Observe, async () => {
        const { seen, refused } = await observeAndCheck(ctx);
        return { seen, refused, creation: apply_creationIdentity(ctx.inputs, seen) };
    }))
        .add('providers', ['observed'], ({ observed }) => phase(steps_names/* Step */.p.Providers, async () => {
        const providers = ensureProviders(ctx, observed.seen.providers);
        return { providers, gate: registrationGate(providers, phases) };
    }))
        .add('provisioned', ['observed', 'providers'], ({ observed: { seen }, providers }) => phase(steps_names/* Step */.p.Hsm, async () => {
        if (!seen.hsm?.enablePurgeProtection)
            await providers.gate.registered('Microsoft.KeyVault');
        return ensureHsm(ctx, seen.hsm);
    }))
        .add('activated', ['observed', 'providers', 'provisioned'], ({ observed, providers, provisioned }) => phase(steps_names/* Step */.p.Activation, async () => {
        const hsm = await providers.gate.alongside(ensureActivated(ctx, provisioned, observed.seen.securityDomainDownload));
        return { hsm, plane: dataPlaneOf(ctx, hsm) };
    }))
        .add('access', ['observed', 'providers', 'activated'], ({ observed, providers, activated }) => phase(steps_names/* Step */.p.KeyAccess, () => providers.gate.alongside(ensureKeyAccess(ctx, phases, activated.plane, observed.seen, observed.creation))))
        .run();
    const keyUri = access.key ? versionlessKeyUri(access.key.id) : runKeyUri(ctx, activated.hsm);
    return { ...observed, ...providers, ...activated, access, keyUri };
}
/** The accounts of a fleet side by side; one that fails is recorded and does not stop the others. */
async function provisionFleet(ctx, phases, shared) {
    const names = (0,settings/* accountNames */.Er)(ctx.inputs);
    if (!names.length)
        return { outcomes: [] };
    ctx.log.info(`${names.length} accounts on key ${shared.keyUri}, ${ctx.inputs.account.concurrency} at a time.`);
    // Every account starts at once and takes one of `account-concurrency` places; an account that
    // waits for Azure (its creation, a propagation) gives its place to the next meanwhile.
    const slots = new Slots(ctx.inputs.account.concurrency);
    const results = await eachAccount(ctx, names.length, async (actx, name) => {
        const turn = slots.turn();
        const refusal = shared.refused.get(name);
        if (refusal) {
            record(actx, { step: steps_names/* Step */.p.Account, observed: refusal, action: 'none', result: 'failed' });
            return failedAccount(name, steps_names/* Step */.p.Observe, refusal, false);
        }
        const own = phases.forAccount(name);
        await turn.take();
        try {
            // The bootstrap grant is shared: removed once every account has moved off it (below).
            const result = await inTurn(turn, () => provisionAccount(actx, own, shared, { removeBootstrap: false }));
            return { ...result, changed: actx.changed };
        }
        catch (error) {
            const step = own.failedStep() ?? steps_names/* Step */.p.Account;
            const message = (0,errors/* describeError */.Uc)(error);
            record(actx, { step, observed: message, action: 'none', result: 'failed' });
            return failedAccount(name, step, message, actx.changed);
        }
        finally {
            turn.give();
        }
    });
    ctx.changed ||= results.some(r => r.changed);
    return { outcomes: results, removed: await removeSharedBootstrap(ctx, phases, shared, results) };
}
function oneAccount(result) {
    return { outcomes: [result], removed: result.removed };
}
function failedAccount(name, step, message, changed) {
    return { name, changed, assignments: [], failure: { step, message } };
}
/** With `remove-bootstrap-assignment`: once, when every account of the fleet reads back its own identity. */
async function removeSharedBootstrap(ctx, { phase }, shared, results) {
    if (!ctx.inputs.identity.removeBootstrapAssignment)
        return undefined;
    const last = results.at(-1);
    if (!last?.account || results.some(r => r.failure || !r.verified)) {
        record(ctx, {
            step: steps_names/* Step */.p.Bootstrap,
            observed: 'not every account of the fleet uses SystemAssignedIdentity yet',
            action: 'remove the bootstrap grant once they all do',
            result: ctx.plan ? 'would-change' : 'skipped'
        });
        return undefined;
    }
    return phase(steps_names/* Step */.p.Bootstrap, () => removeBootstrapAssignment(ctx, bootstrapRemoval(shared, last.account, true)));
}
/** Raised once every account of a fleet was tried, when one or more failed. */
class FleetFailure extends Error {
    failed;
    outputs;
    constructor(failed, total, outputs) {
        super(`${failed.length} of ${total} accounts failed (the others are done; a re-run finishes only what is missing):\n` +
            failed.map(f => `- ${f.name}: ${f.failure?.step}: ${f.failure?.message}`).join('\n'));
        this.failed = failed;
        this.outputs = outputs;
        this.name = 'FleetFailure';
    }
}
function outputsOf(ctx, shared, { outcomes, removed }, fleet) {
    const { hsm, access, keyUri, creation } = shared;
    const one = fleet ? undefined : outcomes[0];
    const assignments = [...access.assignments, ...outcomes.flatMap(o => o.assignments)].filter(a => a.id.toLowerCase() !== removed?.toLowerCase());
    return (0,outputs/* buildOutputs */.JZ)({
        hsmUri: hsm?.hsmUri || `${dataPlaneUri(ctx, hsm)}/`,
        keyUri,
        key: access.key,
        adminPrincipalId: ctx.principal.objectId,
        keyHolder: one ? one.keyHolder : sharedKeyHolder(ctx, access),
        userAssignedPrincipalId: creation.userAssigned?.principalId,
        systemAssignedPrincipalId: one?.systemPrincipalId,
        account: one?.account,
        assignments: uniqueById(assignments),
        changed: ctx.changed,
        fleet: fleet ? outcomes : undefined
    });
}
/** In a fleet, the key holder all accounts share, unless each holds the key with its own identity. */
function sharedKeyHolder(ctx, access) {
    return ctx.inputs.identity.mode === 'system-assigned' ? undefined : access.creationPrincipal;
}
function uniqueById(assignments) {
    const seen = new Set();
    return assignments.filter(a => {
        const id = a.id.toLowerCase();
        if (seen.has(id))
            return false;
        seen.add(id);
        return true;
    });
}
/** One account onto the key: created with it, or brought onto the identity and then the key. */
async function provisionAccount(ctx, phases, shared, options) {
    const { phase } = phases;
    const { creation, gate, keyUri, plane } = shared;
    const seenAccount = shared.seen.accounts.get(ctx.inputs.account.name);
    const early = ctx.inputs.identity.mode === 'system-assigned'
        ? new EarlySystemGrant(ctx, plane?.rbac, work => phases.step(steps_names/* Step */.p.SystemIdentity, work))
        : undefined;
    const accountNamespaces = creation.userAssigned
        ? ['Microsoft.DocumentDB', 'Microsoft.ManagedIdentity']
        : ['Microsoft.DocumentDB'];
    const { identity, encrypted } = await new StepGraph()
        .add('account', [], () => phase(steps_names/* Step */.p.Account, async () => {
        if (!seenAccount)
            await gate.registered(...accountNamespaces);
        return ensureAccount(ctx, seenAccount, {
            keyVaultKeyUri: keyUri,
            defaultIdentity: creationDefaultIdentity(creation),
            userAssignedIdentityId: creation.kind === 'user-assigned' ? creation.userAssigned?.id : undefined,
            // Created with the account, so that its grant can start right away; the switch of the
            // default identity to it stays a separate update.
            systemAssigned: !!early,
            systemPrincipalCreated: early?.created
        });
    }))
        .add('identity', ['account'], async ({ account }) => {
        // Updates of an existing account need the namespaces too.
        await gate.registered(...accountNamespaces);
        return ensureAccountIdentity(ctx, phases, {
            account,
            shared,
            early,
            removeBootstrap: options.removeBootstrap
        });
    })
        // An existing account moves to the key only once its identity holds the grant.
        .add('encrypted', ['identity'], async ({ identity }) => identity.account
        ? phase(steps_names/* Step */.p.AccountKey, () => ensureAccountKey(ctx, identity.account, keyUri))
        : undefined)
        .run();
    return {
        name: ctx.inputs.account.name,
        account: encrypted,
        keyHolder: identity.keyHolder,
        systemPrincipalId: identity.systemPrincipalId,
        verified: identity.verified,
        changed: ctx.changed,
        assignments: identity.assignments,
        removed: identity.removed
    };
}
/** Every read up front, then every refusal before the first write. */
async function observeAndCheck(ctx) {
    const firstParty = creationKind(ctx.inputs) === 'first-party';
    const permissions = new PermissionReads(ctx);
    permissions.startCreations();
    // Looked up before any write, so that a Graph refusal changes nothing; alongside the other
    // reads. A system-assigned account needs it only while it does not exist (which the reads tell).
    const lookUpPrincipal = () => firstPartyPrincipalId(ctx).catch(() => { });
    if (firstParty && ctx.inputs.identity.mode !== 'system-assigned')
        lookUpPrincipal();
    const seen = await observe(ctx, {
        account: (_, account) => {
            if (firstParty && needsCreationGrant(ctx.inputs, [account]))
                lookUpPrincipal();
        }
    });
    const refused = preflight(ctx, seen, await missingPermissions(ctx, seen, permissions));
    if (firstParty && needsCreationGrant(ctx.inputs, [...seen.accounts.values()])) {
        await firstPartyPrincipalId(ctx);
    }
    return { seen, refused };
}
function creationKind(inputs) {
    const { mode, bootstrap } = inputs.identity;
    if (mode === 'system-assigned')
        return bootstrap;
    return mode;
}
/** A system-assigned account needs the bootstrap identity's grant only until it exists. */
function needsCreationGrant(inputs, accounts) {
    // No account at all (mode prepare): the accounts' jobs will create theirs.
    return (inputs.identity.mode !== 'system-assigned' ||
        !accounts.length ||
        accounts.some(account => !account));
}
function apply_creationIdentity(inputs, seen) {
    const id = seen.userAssignedIdentity?.id || inputs.identity.userAssignedIdentity?.id;
    return {
        kind: creationKind(inputs),
        needsGrant: needsCreationGrant(inputs, [...seen.accounts.values()]),
        userAssigned: id ? { id, principalId: seen.userAssignedIdentity?.principalId } : undefined
    };
}
function creationDefaultIdentity(creation) {
    return creation.kind === 'first-party'
        ? 'FirstPartyIdentity'
        : `UserAssignedIdentity=${creation.userAssigned?.id}`;
}
/** The data plane answers only for a provisioned, active HSM; in plan mode it may be neither yet. */
function dataPlaneOf(ctx, hsm) {
    return hsm?.activationStatus === 'Active' ? ctx.apis.hsm(dataPlaneUri(ctx, hsm)) : undefined;
}
/** Registration runs alongside; each write joins the namespace it needs right before it. */
function registrationGate(providers, { step }) {
    const failed = step(steps_names/* Step */.p.Providers, () => providers.failed);
    failed.catch(() => { });
    return {
        registered: (...namespaces) => step(steps_names/* Step */.p.Providers, async () => {
            await Promise.all(namespaces.map(ns => providers.ready(ns)));
        }),
        alongside: work => Promise.race([work, failed])
    };
}
/** Brings an existing (or just created) account onto the identity `identity-mode` asks for. */
async function ensureAccountIdentity(ctx, { phase }, given) {
    const { account, shared } = given;
    const { creation, access, plane } = shared;
    const mode = ctx.inputs.identity.mode;
    const base = {
        account,
        keyHolder: access.creationPrincipal,
        systemPrincipalId: account?.identity.principalId,
        assignments: []
    };
    const uai = creation.userAssigned;
    if (!account) {
        if (mode === 'system-assigned')
            planSystemAssigned(ctx);
        return base;
    }
    if (mode === 'first-party') {
        const updated = await phase(steps_names/* Step */.p.DefaultIdentity, () => ensureDefaultIdentity(ctx, account, 'FirstPartyIdentity'));
        return { ...base, account: updated };
    }
    if (mode === 'user-assigned') {
        if (!uai)
            return base;
        const updated = await phase(steps_names/* Step */.p.DefaultIdentity, async () => {
            const attached = await ensureUserAssignedAttached(ctx, account, uai.id);
            return ensureDefaultIdentity(ctx, attached, `UserAssignedIdentity=${uai.id}`);
        });
        return { ...base, account: updated, keyHolder: uai.principalId };
    }
    const outcome = await phase(steps_names/* Step */.p.SystemIdentity, () => ensureSystemAssigned(ctx, account, plane?.rbac, given.early));
    const removed = ctx.inputs.identity.removeBootstrapAssignment && given.removeBootstrap
        ? await phase(steps_names/* Step */.p.Bootstrap, () => removeBootstrapAssignment(ctx, bootstrapRemoval(shared, outcome.account, outcome.verified)))
        : undefined;
    return {
        account: outcome.account,
        keyHolder: outcome.verified ? outcome.principalId : base.keyHolder,
        systemPrincipalId: outcome.principalId,
        verified: outcome.verified,
        assignments: outcome.grant?.assignment ? [outcome.grant.assignment] : [],
        removed
    };
}
function bootstrapRemoval({ plane, keyUri, creation }, account, verified) {
    const uai = creation.userAssigned;
    return {
        rbac: plane?.rbac,
        verified,
        account,
        keyUri,
        userAssignedIdentity: uai?.principalId
            ? { id: uai.id, principalId: uai.principalId }
            : undefined
    };
}

;// CONCATENATED MODULE: ./src/modes/teardown.ts











/** The tag the action puts on what it creates (see the runners' resourceTags). */
const CREATED_BY = { name: 'created-by', value: 'cosmos-cmk-hsm-action' };
/** Where a teardown notes, before it deletes the account, which grants it will remove next. */
const pendingTag = (account) => `cmk-teardown-${account}`;
/**
 * Removes a PR environment: the Cosmos DB account first (so that no backup loses writes), then
 * only the HSM role assignments this action made for it, under their deterministic names, when no
 * other account still needs them. Keys, key versions and the HSM are never touched. Before the
 * account is deleted, the grants to remove are noted on the HSM, so that a run cut off in between
 * finishes the job when it runs again.
 */
async function teardown(ctx, { phase }) {
    const name = ctx.inputs.account.name;
    const { seen, removed } = await new StepGraph()
        .add('seen', [], () => phase(steps_names/* Step */.p.Observe, () => observe(ctx)))
        .add('targets', ['seen'], ({ seen }) => teardownTargets(ctx, seen))
        .add('deleted', ['seen', 'targets'], ({ seen: { account, hsm }, targets: { removals } }) => phase(steps_names/* Step */.p.AccountDeletion, async () => {
        if (!account) {
            record(ctx, {
                step: steps_names/* Step */.p.AccountDeletion,
                observed: 'absent',
                action: 'none',
                result: 'ok'
            });
            return;
        }
        const action = `delete Cosmos DB account '${name}' (its data with it)`;
        if (ctx.plan) {
            record(ctx, {
                step: steps_names/* Step */.p.AccountDeletion,
                observed: 'present',
                action,
                result: 'would-change'
            });
            return;
        }
        if (hsm && removals.length) {
            await ctx.apis.managedHsms.mergeTags(hsm.id, {
                [pendingTag(name)]: removals.map(r => r.principalId).join(',')
            });
        }
        await ctx.apis.cosmos.delete(ctx.inputs.resourceGroup, name);
        record(ctx, { step: steps_names/* Step */.p.AccountDeletion, observed: 'present', action, result: 'changed' });
    }))
        .add('removed', ['seen', 'targets', 'deleted'], ({ seen: { hsm }, targets }) => phase(steps_names/* Step */.p.GrantRemoval, async () => {
        const rbac = hsm?.activationStatus === 'Active' ? ctx.apis.hsm(dataPlaneUri(ctx, hsm)).rbac : undefined;
        const ids = [];
        for (const removal of targets.removals) {
            const id = rbac && (await removeGrant(ctx, rbac, removal));
            if (id)
                ids.push(id);
        }
        if (hsm && targets.noted !== undefined && !ctx.plan) {
            await ctx.apis.managedHsms.deleteTags(hsm.id, { [pendingTag(name)]: targets.noted });
        }
        return ids;
    }))
        .run();
    const { account, hsm } = seen;
    record(ctx, {
        step: steps_names/* Step */.p.Teardown,
        observed: `key '${ctx.inputs.key.name}', its versions and Managed HSM '${ctx.inputs.hsm.name}'`,
        action: 'keep them: teardown never deletes, purges or disables a key or an HSM',
        result: 'skipped'
    });
    return {
        ...(0,outputs/* buildOutputs */.JZ)({
            hsmUri: dataPlaneUri(ctx, hsm),
            keyUri: runKeyUri(ctx, hsm),
            adminPrincipalId: ctx.principal.objectId,
            account,
            assignments: [],
            changed: ctx.changed
        }),
        'role-assignment-ids': JSON.stringify(removed)
    };
}
/**
 * What the teardown of the account removes: the grants this action made for it (from the account,
 * or from the note left on the HSM by a run cut off after the deletion), and why any are kept.
 */
async function teardownTargets(ctx, seen) {
    const { account, hsm } = seen;
    if (account)
        refuseForeign(ctx, account);
    const noted = hsm?.tags[pendingTag(ctx.inputs.account.name)];
    const removals = account ? await grantsOf(ctx, seen, account) : parseNoted(noted);
    const kept = account ? await keptGrants(ctx, seen, account) : [];
    for (const reason of kept) {
        record(ctx, { step: steps_names/* Step */.p.GrantRemoval, observed: reason, action: 'keep it', result: 'skipped' });
    }
    return { removals, noted };
}
/** Teardown touches only what this action provably created, and nothing protected. */
function refuseForeign(ctx, account) {
    const tags = Object.fromEntries(Object.entries(account.tags).map(([k, v]) => [k.toLowerCase(), v]));
    const protectedBy = Object.entries(ctx.inputs.teardown.protectedTags).filter(([k, v]) => tags[k.toLowerCase()]?.toLowerCase() === v.toLowerCase());
    if (protectedBy.length) {
        throw new errors/* ActionError */.lZ(`Cosmos DB account '${account.name}' is tagged ${protectedBy.map(([k, v]) => `${k}=${v}`).join(', ')}, ` +
            'which protected-tags puts off limits for teardown. Nothing was deleted.');
    }
    if (tags[CREATED_BY.name] !== CREATED_BY.value) {
        throw new errors/* ActionError */.lZ(`Cosmos DB account '${account.name}' does not carry the tag ${CREATED_BY.name}=${CREATED_BY.value}, so ` +
            'this action cannot prove it created it and leaves it alone. Nothing was deleted.');
    }
}
/** The grants this action made for the account alone, found from the identities on the account. */
async function grantsOf(ctx, seen, account) {
    const removals = [];
    if (account.identity.principalId) {
        removals.push({
            principalId: account.identity.principalId,
            label: "the account's system-assigned identity"
        });
    }
    const shared = await sharedGrant(ctx, seen, account);
    if (shared && !(await neededElsewhere(ctx, account, shared.identity)))
        removals.push(shared);
    return removals;
}
/** The first-party or user-assigned grant the account was created with, which others may share. */
async function sharedGrant(ctx, seen, account) {
    const uai = seen.userAssignedIdentity;
    if (uai &&
        Object.keys(account.identity.userAssignedIdentities).some(id => id.toLowerCase() === uai.id.toLowerCase())) {
        return {
            principalId: uai.principalId,
            label: `user-assigned identity ${uai.id}`,
            identity: `UserAssignedIdentity=${uai.id}`
        };
    }
    if (ctx.inputs.identity.mode === 'first-party' ||
        ctx.inputs.identity.bootstrap === 'first-party') {
        const principalId = await firstPartyPrincipalId(ctx);
        return {
            principalId,
            label: 'the Azure Cosmos DB service principal',
            identity: 'FirstPartyIdentity'
        };
    }
    return undefined;
}
/** Whether another account of the subscription reaches the key through the same identity. */
async function neededElsewhere(ctx, account, identity) {
    const keyUri = account.keyVaultKeyUri;
    if (!keyUri)
        return false;
    const others = await ctx.apis.cosmos.list();
    return others.some(other => other.id.toLowerCase() !== account.id.toLowerCase() &&
        !!other.keyVaultKeyUri &&
        sameKey(other.keyVaultKeyUri, keyUri) &&
        (sameIdentity(other.defaultIdentity, identity) ||
            Object.keys(other.identity.userAssignedIdentities).some(id => identity.toLowerCase().endsWith(id.toLowerCase()))));
}
/** What teardown leaves, and why, for the summary. */
async function keptGrants(ctx, seen, account) {
    const shared = await sharedGrant(ctx, seen, account);
    if (!shared || !(await neededElsewhere(ctx, account, shared.identity)))
        return [];
    return [`the grant of ${shared.label}: another account still uses the key through it`];
}
function parseNoted(noted) {
    return (noted ?? '')
        .split(',')
        .filter(Boolean)
        .map(principalId => ({ principalId, label: 'a principal noted by an earlier teardown' }));
}
/** Removes the assignment under this action's deterministic name, if it is there. */
async function removeGrant(ctx, rbac, removal) {
    const scope = keyScopeOf(ctx);
    const role = hsmRoles.cryptoServiceEncryptionUser;
    const name = roleAssignmentName(ctx.inputs.hsm.name, scope, role.id, removal.principalId);
    const existing = await rbac.get(scope, name);
    const observed = `${name} for ${removal.label} ${removal.principalId}`;
    if (!existing) {
        record(ctx, {
            step: steps_names/* Step */.p.GrantRemoval,
            observed: `${observed} absent`,
            action: 'none',
            result: 'ok'
        });
        return undefined;
    }
    const action = `remove '${role.name}' at ${scope}`;
    if (ctx.plan) {
        record(ctx, { step: steps_names/* Step */.p.GrantRemoval, observed, action, result: 'would-change' });
        return undefined;
    }
    await rbac.delete(scope, name);
    record(ctx, { step: steps_names/* Step */.p.GrantRemoval, observed, action, result: 'changed' });
    return existing.id;
}

;// CONCATENATED MODULE: ./src/modes/verify.ts














/** What each revocation code of `customerManagedKeyStatus` means (Azure Cosmos DB's substatus codes). */
const revocationCodes = {
    '4000': "Microsoft Entra ID gave the account's default identity no token",
    '4002': 'the default identity may not use the key (no grant), or the key is disabled or expired',
    '4003': 'the key was not found',
    '4005': 'wrapping or unwrapping with the key failed',
    '4006': 'the key URI is not valid',
    '4009': "the HSM's host name does not resolve",
    '4015': 'the account has no default identity',
    '4016': "the HSM's network rules block Azure Cosmos DB",
    '4017': 'the HSM was not found'
};
/** How long Azure Cosmos DB may take to move to a new key version. */
const CATCH_UP_MS = 24 * 3600_000;
const EXPIRY_WARNING_MS = 30 * 24 * 3600_000;
/**
 * Reads everything and writes nothing: whether each account really uses the expected key through
 * an identity that holds it, and whether the key and the HSM are fit. One finding per check; the
 * HSM's and the key's once, the accounts' for each account (a fleet side by side).
 */
async function verify(ctx, { phase }) {
    const names = (0,settings/* accountNames */.Er)(ctx.inputs);
    const fleet = names.length > 1;
    const { seen, findings } = await new StepGraph()
        .add('seen', [], () => phase(steps_names/* Step */.p.Observe, () => observe(ctx)))
        .add('findings', ['seen'], ({ seen }) => phase(steps_names/* Step */.p.Verify, async () => {
        const shared = await sharedChecks(ctx, seen);
        // Looked up once for all the accounts that need it.
        if (ctx.inputs.identity.mode === 'first-party')
            firstPartyPrincipalId(ctx).catch(() => { });
        const perAccount = await eachAccount(ctx, ctx.inputs.account.concurrency, (actx, name) => accountChecks(actx, seen, seen.accounts.get(name)));
        return [...shared, ...perAccount.flat()];
    }))
        .run();
    for (const f of findings) {
        record(ctx, {
            step: f.step,
            ...(f.account ? { account: f.account } : {}),
            observed: f.observed,
            action: `check: ${f.check}`,
            result: f.result
        });
    }
    const healthy = findings.every(f => f.result !== 'failed');
    const failedChecks = (name) => findings.filter(f => f.account === name && f.result === 'failed');
    return (0,outputs/* buildOutputs */.JZ)({
        hsmUri: dataPlaneUri(ctx, seen.hsm),
        keyUri: runKeyUri(ctx, seen.hsm),
        key: seen.key?.key,
        adminPrincipalId: ctx.principal.objectId,
        account: fleet ? undefined : seen.account,
        assignments: [],
        changed: false,
        verdict: { healthy, findings },
        fleet: fleet
            ? names.map(name => {
                const failed = failedChecks(name);
                return {
                    name,
                    account: seen.accounts.get(name),
                    changed: false,
                    ...(failed.length
                        ? {
                            failure: {
                                step: steps_names/* Step */.p.Verify,
                                message: failed.map(f => `${f.check}: ${f.observed}`).join('; ')
                            }
                        }
                        : {})
                };
            })
            : undefined
    });
}
/** Collects findings; in an account's context each carries the account's name. */
function findingsOf(ctx) {
    const findings = [];
    const add = (step, check, ok, observed) => findings.push({
        step,
        ...(ctx.account ? { account: ctx.account } : {}),
        check,
        observed,
        result: ok === 'warning' ? 'warning' : ok ? 'ok' : 'failed'
    });
    return { findings, add };
}
/** The HSM and the key, once for every account. */
async function sharedChecks(ctx, seen) {
    const { findings, add } = findingsOf(ctx);
    const { hsm } = seen;
    const key = seen.key?.key;
    if (!hsm) {
        add(steps_names/* Step */.p.Hsm, 'the HSM exists', false, `no Managed HSM '${ctx.inputs.hsm.name}'`);
    }
    else {
        add(steps_names/* Step */.p.Hsm, 'soft delete on', hsm.enableSoftDelete, `soft delete ${hsm.enableSoftDelete ? 'on' : 'off'}`);
        add(steps_names/* Step */.p.Hsm, 'purge protection on', hsm.enablePurgeProtection, `purge protection ${hsm.enablePurgeProtection ? 'on' : 'off'}`);
        add(steps_names/* Step */.p.Activation, 'the HSM is active', hsm.activationStatus === 'Active', `activationStatus ${hsm.activationStatus}`);
    }
    if (!seen.key) {
        add(steps_names/* Step */.p.Key, 'the key is readable', false, 'the signed-in principal may not read the key (it needs Managed HSM Crypto User or Crypto Auditor)');
    }
    else if (!key) {
        add(steps_names/* Step */.p.Key, 'the key exists', false, `no key '${ctx.inputs.key.name}'`);
    }
    else {
        const now = new Date(ctx.clock.now());
        const problems = keyMismatches(key, ctx.inputs.key.size, now);
        add(steps_names/* Step */.p.Key, 'RSA-HSM with wrapKey and unwrapKey, enabled, not expired', !problems.length, problems.join('; ') || verify_describeKey(key));
        if (key.expiresOn && !problems.length) {
            const left = key.expiresOn.getTime() - now.getTime();
            add(steps_names/* Step */.p.Key, 'not expiring within 30 days', left > EXPIRY_WARNING_MS || 'warning', `expires ${key.expiresOn.toISOString()}`);
        }
        if (hsm)
            await checkRotationPolicy(ctx, dataPlaneUri(ctx, hsm), key, add);
    }
    return findings;
}
/** One account: on the key, healthy, on the current version, through an identity that holds it. */
async function accountChecks(ctx, seen, account) {
    const { findings, add } = findingsOf(ctx);
    const { hsm } = seen;
    const key = seen.key?.key;
    if (!account) {
        add(steps_names/* Step */.p.Account, 'the account exists', false, `no Cosmos DB account '${ctx.inputs.account.name}'`);
        return findings;
    }
    const expected = runKeyUri(ctx, hsm);
    const onKey = !!account.keyVaultKeyUri && sameKey(account.keyVaultKeyUri, expected);
    add(steps_names/* Step */.p.Account, `uses ${expected}`, onKey && account.keyVaultKeyUri === versionlessKeyUri(account.keyVaultKeyUri ?? ''), `key ${account.keyVaultKeyUri ?? 'none'}`);
    add(steps_names/* Step */.p.Account, 'provisioning succeeded', isSucceeded(account), `provisioningState ${account.provisioningState ?? 'unknown'}`);
    const code = (0,outputs/* keyStatusCode */.fQ)(account.customerManagedKeyStatus);
    add(steps_names/* Step */.p.AccountKey, 'customer-managed key status is healthy', !code && !/revoked/i.test(account.customerManagedKeyStatus ?? ''), code
        ? `revoked with code ${code}: ${revocationCodes[code] ?? 'see the Azure Cosmos DB CMK troubleshooting guide'} (${account.customerManagedKeyStatus})`
        : (account.customerManagedKeyStatus ?? 'no status reported'));
    if (key)
        checkVersionInUse(ctx, account, key, add);
    await checkIdentity(ctx, seen, account, add);
    return findings;
}
function verify_describeKey(key) {
    return `${key.kty} ${key.keySize ?? '?'} bits, ops ${key.keyOps.join('/')}, version ${key.version}`;
}
async function checkRotationPolicy(ctx, hsmUri, key, add) {
    const wanted = wantedPolicy(ctx);
    if (!wanted)
        return;
    const plane = ctx.apis.hsm(hsmUri);
    try {
        const policy = await plane.keys.getRotationPolicy(key.name);
        const same = (a, b) => (a ?? '').toUpperCase() === (b ?? '').toUpperCase();
        const ok = !!policy &&
            same(policy.rotateAfter, wanted.rotateAfter) &&
            same(policy.expireAfter, wanted.expireAfter);
        add(steps_names/* Step */.p.RotationPolicy, `rotate ${wanted.rotateAfter} after creation${wanted.expireAfter ? `, expire after ${wanted.expireAfter}` : ''}`, ok, policy
            ? `rotate ${policy.rotateAfter ?? `${policy.rotateBeforeExpiry} before expiry`}, expire after ${policy.expireAfter ?? 'never'}`
            : 'no rotation policy');
    }
    catch (error) {
        add(steps_names/* Step */.p.RotationPolicy, 'the rotation policy is readable', false, (0,errors/* describeError */.Uc)(error));
    }
}
/** The version in use against the current one; a new version gets Azure Cosmos DB's 24 hours. */
function checkVersionInUse(ctx, account, key, add) {
    const inUse = account.keyVaultKeyUriVersion;
    if (!inUse) {
        add(steps_names/* Step */.p.AccountKey, 'the key version in use is reported', 'warning', 'the account reports no key version in use');
        return;
    }
    if (inUse.toLowerCase() === key.version.toLowerCase()) {
        add(steps_names/* Step */.p.AccountKey, 'uses the current key version', true, `version ${inUse}`);
        return;
    }
    const age = key.createdOn ? ctx.clock.now() - key.createdOn.getTime() : Infinity;
    const hours = Number.isFinite(age) ? `${Math.floor(age / 3600_000)} h` : 'an unknown time';
    add(steps_names/* Step */.p.AccountKey, 'uses the current key version (within 24 hours of a rotation)', age < CATCH_UP_MS ? 'warning' : false, `uses version ${inUse}; the current version ${key.version} is ${hours} old`);
}
/** The default identity is the one `identity-mode` asks for, and its principal holds the key. */
async function checkIdentity(ctx, seen, account, add) {
    const { mode } = ctx.inputs.identity;
    const uaiId = seen.userAssignedIdentity?.id ?? ctx.inputs.identity.userAssignedIdentity?.id;
    const expected = mode === 'first-party'
        ? 'FirstPartyIdentity'
        : mode === 'system-assigned'
            ? 'SystemAssignedIdentity'
            : `UserAssignedIdentity=${uaiId}`;
    add(steps_names/* Step */.p.DefaultIdentity, `default identity ${expected}`, sameIdentity(account.defaultIdentity, expected), account.defaultIdentity ?? 'none');
    let principal;
    try {
        principal =
            mode === 'first-party'
                ? await firstPartyPrincipalId(ctx)
                : mode === 'system-assigned'
                    ? account.identity.principalId
                    : seen.userAssignedIdentity?.principalId;
    }
    catch (error) {
        add(steps_names/* Step */.p.CosmosGrant, 'the default identity holds the key', false, (0,errors/* describeError */.Uc)(error));
        return;
    }
    if (!principal || !seen.hsm) {
        add(steps_names/* Step */.p.CosmosGrant, 'the default identity holds the key', false, 'no principal for the default identity');
        return;
    }
    const scope = keyScopeOf(ctx);
    try {
        const assignments = await ctx.apis
            .hsm(dataPlaneUri(ctx, seen.hsm))
            .rbac.listForPrincipal(scope, principal);
        const holds = assignments.some(a => roleGuidOf(a.roleDefinitionId) === hsmRoles.cryptoServiceEncryptionUser.id &&
            scopeCovers(a.scope, scope));
        add(steps_names/* Step */.p.CosmosGrant, `${principal} holds '${hsmRoles.cryptoServiceEncryptionUser.name}' at ${scope}`, holds, holds ? 'assignment present' : `no such assignment (${assignments.length} other assignments)`);
    }
    catch (error) {
        add(steps_names/* Step */.p.CosmosGrant, 'the grants are readable', false, (0,errors/* describeError */.Uc)(error));
    }
}

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
;// CONCATENATED MODULE: ./src/secret-file.ts




const nodeSecretFiles = {
    state(path) {
        try {
            const stats = (0,external_node_fs_.lstatSync)(path);
            if (!stats.isFile())
                return 'not-a-file';
            return stats.size === 0 ? 'empty' : 'written';
        }
        catch (error) {
            if (error.code === 'ENOENT')
                return 'absent';
            throw error;
        }
    },
    async reserve(path) {
        const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_TRUNC } = external_node_fs_.constants;
        const handle = nodeSecretFiles.state(path) === 'empty'
            ? await (0,promises_.open)(path, O_WRONLY | O_NOFOLLOW | O_TRUNC)
            : await (0,promises_.open)(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
        try {
            await handle.chmod(0o600);
            await handle.sync();
            await syncFolder(path);
        }
        catch (error) {
            await handle.close();
            throw error;
        }
        return {
            async write(content) {
                // Written beside the file, synced, and renamed over it: a write cut short (a full disk,
                // a killed process, a crash before the sync) must not leave part of a secret where a later
                // run would take it for all of it.
                const aside = `${path}.${(0,external_node_crypto_.randomUUID)()}.partial`;
                try {
                    const partial = await (0,promises_.open)(aside, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
                    try {
                        await partial.chmod(0o600);
                        await partial.writeFile(content);
                        await partial.sync();
                    }
                    finally {
                        await partial.close();
                    }
                    // Still the empty file reserved here, never another one (or content) put there since.
                    const [reserved, current] = await Promise.all([handle.stat(), (0,promises_.lstat)(path)]);
                    if (current.ino !== reserved.ino || current.dev !== reserved.dev || current.size > 0) {
                        throw new Error(`${path} was replaced or written to after it was reserved`);
                    }
                    await (0,promises_.rename)(aside, path);
                }
                catch (error) {
                    await (0,promises_.rm)(aside, { force: true }).catch(() => { });
                    throw error;
                }
                finally {
                    await handle.close();
                }
                await syncFolder(path);
            },
            release: () => handle.close()
        };
    }
};
/** Makes the file's entry in its folder durable too. */
async function syncFolder(path) {
    const folder = await (0,promises_.open)((0,external_node_path_.dirname)(path), external_node_fs_.constants.O_RDONLY);
    try {
        await folder.sync();
    }
    finally {
        await folder.close();
    }
}

// EXTERNAL MODULE: ./src/provisioning-error.ts
var provisioning_error = __webpack_require__(6133);
;// CONCATENATED MODULE: ./src/provision.ts














/**
 * The whole sequence: sign in, observe everything that can be read up front, refuse before any
 * write if the run cannot succeed, then let each step write only what differs. In plan mode every
 * read is done and nothing is written.
 */
async function runProvisioning(inputs, deps) {
    const cloud = (0,src_cloud/* getCloud */.ED)(inputs.environment);
    const transport = { ...azure_transport/* defaultTransport */.JT, ...deps.transport };
    const records = [];
    const clock = deps.clock ?? src_clock/* systemClock */.m;
    // Ends whatever may still run in the background (a registration wait) once the run is over.
    const run = new AbortController();
    const forward = () => run.abort(deps.signal?.reason);
    if (deps.signal?.aborted)
        forward();
    deps.signal?.addEventListener('abort', forward, { once: true });
    const signal = run.signal;
    const signIn = deps.signIn ??
        (0,sign_in.startSignIn)({
            inputs,
            runner: deps.runner,
            transport,
            signal,
            credential: deps.credential,
            clock,
            sdkLog: deps.sdkLog
        });
    const { credential, principal: signedIn, timeline } = signIn;
    const blame = new Blame(deps.runner, timeline);
    try {
        // Built while the token exchanges travel.
        const apis = deps.apis ??
            createAzureApis({
                credential,
                cloud,
                subscriptionId: inputs.subscriptionId,
                transport,
                signal,
                fleet: (0,settings/* accountNames */.Er)(inputs).length > 1
            });
        // Requests of the observation, on its part of the timeline; none if sign-in is refused early.
        const dataPlaneAhead = (await signIn.underway)
            ? await timeline.within(steps_names/* Step */.p.Observe, async () => readDataPlaneAhead({ inputs, cloud, apis, principal: signedIn }))
            : undefined;
        const principal = await blame.phase(steps_names/* Step */.p.SignIn, () => signedIn);
        const ctx = {
            inputs,
            cloud,
            apis,
            clock,
            signal,
            log: logFor(deps.runner),
            waits: {
                ...defaultWaitLimits,
                minDelayMs: Math.min(defaultWaitLimits.minDelayMs, transport.pollIntervalMs),
                unknownOutcomeMs: transport.lostAnswerWaitMs,
                ...deps.waits
            },
            plan: inputs.mode === 'plan' || inputs.mode === 'plan-teardown',
            principal,
            dataPlaneAhead,
            tags: { ...deps.runner.resourceTags(), ...inputs.tags },
            records,
            secretFiles: deps.secretFiles ?? nodeSecretFiles,
            changed: false
        };
        record(ctx, {
            step: steps_names/* Step */.p.SignIn,
            observed: `${inputs.auth.type}: object ${principal.objectId}, tenant ${principal.tenantId}`,
            action: 'none',
            result: 'ok'
        });
        if (ctx.plan)
            ctx.log.info('mode: plan: reading everything, writing nothing.');
        const outputs = await modes[inputs.mode](ctx, blame);
        return {
            mode: inputs.mode,
            changed: ctx.changed,
            outputs,
            records,
            timeline: timeline.spans()
        };
    }
    catch (error) {
        if (error instanceof FleetFailure) {
            // Each failed account has its row already; the others' outputs stand.
            throw new provisioning_error/* ProvisioningError */.m(error, steps_names/* Step */.p.Account, records, timeline.spans(), error.outputs);
        }
        const step = blame.failedStep();
        records.push({ step, observed: '', action: '', result: 'failed' });
        throw new provisioning_error/* ProvisioningError */.m(error, step, records, timeline.spans());
    }
    finally {
        deps.signal?.removeEventListener('abort', forward);
        run.abort(new Error('The run is over.'));
    }
}
/**
 * Runs phases in log groups, remembers which step failed first, and puts the time of each step on
 * the run's timeline.
 */
class Blame {
    runner;
    timeline;
    current = steps_names/* Step */.p.SignIn;
    // The step that failed first, when steps run side by side or one joins another.
    failedIn;
    constructor(runner, timeline) {
        this.runner = runner;
        this.timeline = timeline;
    }
    phase = async (name, work) => {
        this.current = name;
        return this.runner.group(name, () => this.timeline.within(name, work));
    };
    step = async (name, work) => {
        try {
            return await this.timeline.within(name, work);
        }
        catch (error) {
            this.failedIn ??= name;
            throw error;
        }
    };
    forAccount = (account) => {
        let failedIn;
        const step = async (name, work) => {
            try {
                return await this.timeline.within(name, work, account);
            }
            catch (error) {
                failedIn ??= name;
                throw error;
            }
        };
        return { phase: step, step, forAccount: this.forAccount, failedStep: () => failedIn };
    };
    failedStep() {
        return this.failedIn ?? this.current;
    }
}
/** Every mode is a walk over the same steps. */
const modes = {
    apply: provision,
    plan: provision,
    prepare: provision,
    verify: verify,
    teardown: teardown,
    'plan-teardown': teardown
};


/***/ })

};
