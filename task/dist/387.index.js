export const id = 387;
export const ids = [387];
export const modules = {

/***/ 9387:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  GITHUB_ACTIONS_LOGIN: () => (/* binding */ GITHUB_ACTIONS_LOGIN),
  PullRequestCommentError: () => (/* binding */ PullRequestCommentError),
  publishRunComment: () => (/* binding */ publishRunComment)
});

// EXTERNAL MODULE: ./src/clock.ts
var src_clock = __webpack_require__(9373);
// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(3916);
// EXTERNAL MODULE: ./src/sanitize.ts
var sanitize = __webpack_require__(5540);
// EXTERNAL MODULE: ./node_modules/@actions/github/lib/github.js + 22 modules
var github = __webpack_require__(2413);
// EXTERNAL MODULE: ./src/wait.ts
var src_wait = __webpack_require__(910);
;// CONCATENATED MODULE: ./src/pr-comment/rate-limit.ts



/** GitHub's rate limits kept us waiting longer than allowed. */
class RateLimitedError extends errors/* ActionError */.lZ {
    constructor(message) {
        super(message);
        this.name = 'RateLimitedError';
    }
}
/** Only so many repeats of one request, however short GitHub's waits are. */
const MAX_ATTEMPTS = 8;
/** What GitHub asks for when a secondary limit comes without Retry-After: at least a minute. */
const SECONDARY_WAIT_MS = 60_000;
/** Clock skew and whole-second reset times: wait a little past the reset. */
const RESET_SLACK_MS = 1_000;
function header(headers, name) {
    const value = headers[name];
    return value === undefined ? undefined : String(value);
}
function answerOf(error) {
    const e = error;
    if (typeof e?.status !== 'number' || typeof e.response?.headers !== 'object')
        return undefined;
    const data = e.response.data;
    return {
        status: e.status,
        headers: (e.response.headers ?? {}),
        message: typeof data?.message === 'string' ? data.message : ''
    };
}
/** Milliseconds until `x-ratelimit-reset`, measured on the server's clock when it sent `date`. */
function untilReset(headers, now) {
    if (header(headers, 'x-ratelimit-remaining') !== '0')
        return undefined;
    const reset = Number(header(headers, 'x-ratelimit-reset'));
    if (!Number.isFinite(reset) || reset <= 0)
        return undefined;
    const serverNow = Date.parse(header(headers, 'date') ?? '');
    return Math.max(0, reset * 1000 - (Number.isNaN(serverNow) ? now : serverNow)) + RESET_SLACK_MS;
}
/** Retry-After in milliseconds: seconds, or an HTTP date. */
function retryAfter(headers, now) {
    const value = header(headers, 'retry-after');
    if (value === undefined)
        return undefined;
    const secs = Number(value);
    if (Number.isFinite(secs))
        return Math.max(0, secs * 1000);
    const date = Date.parse(value);
    return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
/** Whether an error is GitHub's answer that a rate limit was hit (403 or 429). */
function isRateLimitError(error) {
    const answer = answerOf(error);
    return answer !== undefined && isRateLimit(answer);
}
function isRateLimit(a) {
    if (a.status === 429)
        return true;
    return (a.status === 403 &&
        (header(a.headers, 'retry-after') !== undefined ||
            header(a.headers, 'x-ratelimit-remaining') === '0' ||
            /rate limit/i.test(a.message)));
}
/**
 * Keeps a client within GitHub's rate limits: a request answered 403/429 for a rate limit is
 * repeated after the wait GitHub asks for (Retry-After; else until `x-ratelimit-reset` when no
 * requests remain; else a minute, doubling), and after an answer that used up the primary limit the
 * next request waits for the reset. Every wait is at least a second, and all of them together stay
 * within `maxWaitMs`: a longer one fails at once with RateLimitedError instead of sleeping.
 */
class RateLimitGate {
    options;
    waitedMs = 0;
    blockedUntil = 0;
    constructor(options) {
        this.options = options;
    }
    async send(label, request) {
        let secondaryWaits = 0;
        for (let attempt = 1;; attempt++) {
            const { clock, signal } = this.options;
            // Octokit's pagination drops per-request options, the signal among them.
            if (signal?.aborted)
                throw (0,src_clock/* abortError */.v)(signal);
            if (this.blockedUntil > clock.now()) {
                await this.pause(this.blockedUntil - clock.now(), 'primary rate limit used up', label);
            }
            try {
                const response = await request();
                this.note(response.headers);
                return response;
            }
            catch (error) {
                const answer = answerOf(error);
                if (!answer || !isRateLimit(answer) || attempt >= MAX_ATTEMPTS)
                    throw error;
                this.note(answer.headers);
                const asked = retryAfter(answer.headers, clock.now());
                if (asked !== undefined) {
                    await this.pause(asked, `${answer.status}, Retry-After`, label);
                }
                else if (this.blockedUntil <= clock.now()) {
                    // A secondary limit without Retry-After: a minute, then longer each time.
                    await this.pause(SECONDARY_WAIT_MS * 2 ** secondaryWaits++, `${answer.status}`, label);
                }
            }
        }
    }
    note(headers) {
        const wait = untilReset(headers, this.options.clock.now());
        if (wait !== undefined)
            this.blockedUntil = this.options.clock.now() + wait;
    }
    async pause(ms, why, label) {
        const wait = Math.max(1_000, Math.ceil(ms));
        const { maxWaitMs, clock, signal, log } = this.options;
        if (this.waitedMs + wait > maxWaitMs) {
            const left = this.waitedMs ? `${(0,src_wait/* seconds */.YA)(maxWaitMs - this.waitedMs)} left of the ` : '';
            throw new RateLimitedError(`GitHub's rate limit (${why}) asks to wait ${(0,src_wait/* seconds */.YA)(wait)} before ${label}; that is more ` +
                `than the ${left}${(0,src_wait/* seconds */.YA)(maxWaitMs)} allowed for rate limits, so the comment was not written.`);
        }
        log?.(`GitHub rate limit (${why}): waiting ${(0,src_wait/* seconds */.YA)(wait)} before ${label}.`);
        await clock.sleep(wait, signal);
        this.waitedMs += wait;
    }
}

;// CONCATENATED MODULE: ./src/pr-comment/github-api.ts




/** GitHub refused a request; `message` is GitHub's own. */
class GitHubApiError extends errors/* ActionError */.lZ {
    operation;
    status;
    githubMessage;
    rateLimited;
    constructor(operation, status, githubMessage, 
    /** The answer was a rate limit that could not be waited out. */
    rateLimited = false) {
        super(`GitHub answered ${status} (${githubMessage || 'no message'}) when asked to ${operation}.`);
        this.operation = operation;
        this.status = status;
        this.githubMessage = githubMessage;
        this.rateLimited = rateLimited;
        this.name = 'GitHubApiError';
    }
}
function apiError(operation, error) {
    if (error instanceof RateLimitedError || error?.name === 'AbortError')
        return error;
    const status = (0,errors/* statusOf */.c2)(error);
    if (status === undefined)
        return error;
    const data = error.response?.data;
    const message = typeof data?.message === 'string' ? (0,sanitize/* sanitize */.a)(data.message) : '';
    return new GitHubApiError(operation, status, message, isRateLimitError(error));
}
async function call(operation, work) {
    try {
        return await work();
    }
    catch (error) {
        throw apiError(operation, error);
    }
}
function toComment(c) {
    return {
        id: c.id,
        body: c.body ?? '',
        ...(c.user?.login ? { author: c.user.login } : {}),
        url: c.html_url
    };
}
/**
 * The REST API through `@actions/github`'s Octokit (its proxy settings included), every request
 * kept within GitHub's rate limits by one RateLimitGate.
 */
function octokitCommentApi(o) {
    const debug = (message) => o.log?.debug((0,sanitize/* sanitize */.a)(message));
    const octokit = (0,github.getOctokit)(o.token, {
        baseUrl: o.baseUrl,
        userAgent: 'cosmos-cmk-hsm-action',
        log: { debug, info: debug, warn: debug, error: debug }
    });
    const gate = new RateLimitGate({
        clock: o.clock,
        maxWaitMs: o.maxRateLimitWaitMs,
        signal: o.signal,
        log: message => o.log?.info(message)
    });
    octokit.hook.wrap('request', (request, options) => gate.send(`${options.method} ${String(options.url)}`, async () => request(options)));
    const request = o.signal ? { request: { signal: o.signal } } : {};
    return {
        async tokenLogin() {
            // Installation tokens (GITHUB_TOKEN among them) have no user: GET /user answers 403.
            if (o.token.startsWith('ghs_'))
                return undefined;
            try {
                return (await octokit.rest.users.getAuthenticated(request)).data.login;
            }
            catch (error) {
                if ((0,errors/* statusOf */.c2)(error) === 403)
                    return undefined;
                throw apiError("read the token's user", error);
            }
        },
        findComment: (pr, match) => call(`list the comments of pull request #${pr.number}`, async () => {
            const pages = octokit.paginate.iterator(octokit.rest.issues.listComments, {
                owner: pr.owner,
                repo: pr.repo,
                issue_number: pr.number,
                per_page: 100,
                ...request
            });
            for await (const { data } of pages) {
                const found = data.map(toComment).find(match);
                if (found)
                    return found;
            }
            return undefined;
        }),
        createComment: (pr, body) => call(`comment on pull request #${pr.number}`, async () => {
            const { data } = await octokit.rest.issues.createComment({
                owner: pr.owner,
                repo: pr.repo,
                issue_number: pr.number,
                body,
                ...request
            });
            return toComment(data);
        }),
        updateComment: (repo, id, body) => call(`update comment ${id}`, async () => {
            const { data } = await octokit.rest.issues.updateComment({
                owner: repo.owner,
                repo: repo.repo,
                comment_id: id,
                body,
                ...request
            });
            return toComment(data);
        }),
        openPullRequests: (repo, head) => call(`list the open pull requests of ${head}`, async () => {
            const { data } = await octokit.rest.pulls.list({
                owner: repo.owner,
                repo: repo.repo,
                state: 'open',
                head,
                per_page: 100,
                ...request
            });
            return data.map(pr => ({ number: pr.number, headSha: pr.head.sha }));
        })
    };
}

;// CONCATENATED MODULE: ./src/pr-comment/marker.ts
/** GitHub's limit on a comment's body. */
const MAX_COMMENT_LENGTH = 65_536;
const TRUNCATED = '\n\n… (cut short to fit in a comment; the job summary has all of it)';
/** Lower case and percent-encoded, `-` too, so that no value can end the HTML comment (`--`, `>`). */
function encode(value) {
    return encodeURIComponent(value.trim().toLowerCase()).replace(/-/g, '%2D');
}
/**
 * The hidden first line of the run comment for `key`. GitHub environment names are
 * case-insensitive and Azure account names lower case, so the marker is too.
 */
function commentMarker(key) {
    return (`<!-- cosmos-cmk-hsm-action:run-comment account=${encode(key.account)} ` +
        `environment=${encode(key.environment ?? '')} -->`);
}
/** The comment's body: the marker on the first line, then the markdown, cut to GitHub's limit. */
function commentBody(key, markdown) {
    const head = `${commentMarker(key)}\n`;
    const room = MAX_COMMENT_LENGTH - head.length;
    const text = markdown.length <= room ? markdown : markdown.slice(0, room - TRUNCATED.length) + TRUNCATED;
    return head + text;
}
/**
 * Whether a comment body is the run comment for `key`: the marker must be the whole first line, so
 * that a comment quoting or mentioning it is not taken (its author is checked too).
 */
function carriesMarker(body, key) {
    const firstLine = body.split('\n', 1)[0].replace(/\r$/, '');
    return firstLine === commentMarker(key);
}

;// CONCATENATED MODULE: ./src/pr-comment/target.ts
const PULL_REQUEST_EVENTS = [
    'pull_request',
    'pull_request_target',
    'pull_request_review',
    'pull_request_review_comment'
];
function at(value, ...path) {
    let current = value;
    for (const key of path) {
        if (typeof current !== 'object' || current === null)
            return undefined;
        current = current[key];
    }
    return current;
}
function positiveInteger(value) {
    return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
function target_text(value) {
    return typeof value === 'string' && value !== '' ? value : undefined;
}
function fromWorkflowRun(run) {
    const triggeredBy = target_text(at(run, 'event')) ?? 'an unknown event';
    if (!PULL_REQUEST_EVENTS.includes(triggeredBy)) {
        return {
            kind: 'none',
            reason: `the workflow run that triggered this one ran on '${triggeredBy}', not on a pull request`
        };
    }
    const sha = target_text(at(run, 'head_sha'));
    const listed = at(run, 'pull_requests');
    const pulls = Array.isArray(listed) ? listed : [];
    const pull = pulls.find(p => at(p, 'head', 'sha') === sha) ?? pulls[0];
    const number = positiveInteger(at(pull, 'number'));
    if (number)
        return { kind: 'number', number, via: 'workflow_run.pull_requests' };
    const owner = target_text(at(run, 'head_repository', 'owner', 'login'));
    const branch = target_text(at(run, 'head_branch'));
    if (!owner || !branch) {
        return {
            kind: 'none',
            reason: 'the workflow_run event names neither a pull request nor its head'
        };
    }
    return { kind: 'head', head: `${owner}:${branch}`, ...(sha ? { sha } : {}) };
}
/**
 * The pull request a run belongs to: `pull_request*` events name it; `issue_comment` does when the
 * comment is on a pull request; `workflow_run` through `pull_requests`, or, for a fork's pull
 * request (whose `pull_requests` GitHub leaves empty), through the head branch. `number` (e.g.
 * passed on from the triggering run) wins over the event.
 */
function commentTarget(context, number) {
    if (number !== undefined) {
        return positiveInteger(number)
            ? { kind: 'number', number, via: 'the given number' }
            : { kind: 'none', reason: `'${number}' is not a pull request number` };
    }
    const { eventName, payload } = context;
    if (PULL_REQUEST_EVENTS.includes(eventName)) {
        const n = positiveInteger(at(payload, 'pull_request', 'number') ?? at(payload, 'number'));
        return n
            ? { kind: 'number', number: n, via: eventName }
            : { kind: 'none', reason: `the ${eventName} event names no pull request` };
    }
    if (eventName === 'issue_comment') {
        const n = positiveInteger(at(payload, 'issue', 'number'));
        if (!at(payload, 'issue', 'pull_request') || !n) {
            return {
                kind: 'none',
                reason: 'the comment that triggered the run is on an issue, not on a pull request'
            };
        }
        return { kind: 'number', number: n, via: eventName };
    }
    if (eventName === 'workflow_run')
        return fromWorkflowRun(at(payload, 'workflow_run'));
    return {
        kind: 'none',
        reason: `the workflow was triggered by '${eventName || 'an unknown event'}', not by a pull request`
    };
}

;// CONCATENATED MODULE: ./src/pr-comment/publish.ts






/** The login GITHUB_TOKEN comments as. */
const GITHUB_ACTIONS_LOGIN = 'github-actions[bot]';
/** The comment could not be written for a reason other than a read-only token. */
class PullRequestCommentError extends errors/* ActionError */.lZ {
    constructor(message) {
        super(message);
        this.name = 'PullRequestCommentError';
    }
}
function skipped(reason) {
    return { outcome: 'skipped', reason: `The pull request was not commented: ${reason}.` };
}
function where(pr, repo) {
    const name = `${repo.owner}/${repo.repo}`;
    return pr ? `pull request #${pr.number} of ${name}` : `a pull request of ${name}`;
}
function readOnly(error, pr, repo) {
    return {
        outcome: 'read-only',
        ...(pr ? { pullRequest: pr } : {}),
        reason: `The comment is not on ${where(pr, repo)}: the token may not ${error.operation} ` +
            `(GitHub: ${error.status} ${error.githubMessage}). A workflow run for a pull request from a ` +
            "fork gets a read-only GITHUB_TOKEN; comment from a 'workflow_run' workflow with " +
            "'permissions: pull-requests: write', or read the result in this job summary."
    };
}
function failure(error, pr, repo) {
    const hint = error instanceof GitHubApiError && error.status === 401
        ? ' The token is not valid (expired, revoked, or not a GitHub token).'
        : error instanceof GitHubApiError && error.status === 404
            ? ' Either the token cannot see the repository or the pull request does not exist.'
            : '';
    return new PullRequestCommentError(`Could not comment on ${where(pr, repo)}: ${(0,errors/* describeError */.Uc)(error)}${hint}`);
}
async function pullRequestOfHead(api, repo, head, sha) {
    const open = await api.openPullRequests(repo, head);
    return (open.find(p => p.headSha === sha) ?? open[0])?.number;
}
/**
 * Writes the run's result as ONE comment on the run's pull request: the comment that carries the
 * marker for this account and environment, written by the token's own user (or bot), is updated in
 * place; without one, it is created. Nothing happens outside a pull request ('skipped'), and a token
 * that may not comment gives 'read-only' with the reason instead of an error. Other failures
 * (bad token, no access, rate limits that outlast `maxRateLimitWaitMs`) throw
 * PullRequestCommentError; the token never appears in a message.
 */
async function publishRunComment(o) {
    if (!o.token.trim())
        return skipped('no GitHub token was given (github-token is empty)');
    const target = commentTarget(o.context, o.pullRequestNumber);
    if (target.kind === 'none')
        return skipped(target.reason);
    let repo;
    try {
        repo = { owner: o.context.repo.owner, repo: o.context.repo.repo };
    }
    catch {
        return skipped('the repository is unknown (GITHUB_REPOSITORY is not set)');
    }
    const api = o.api ??
        octokitCommentApi({
            token: o.token,
            baseUrl: o.baseUrl ?? o.context.apiUrl,
            clock: o.clock ?? src_clock/* systemClock */.m,
            maxRateLimitWaitMs: o.maxRateLimitWaitMs ?? 90_000,
            signal: o.signal,
            log: o.log
        });
    let pr;
    try {
        let number;
        if (target.kind === 'number') {
            number = target.number;
        }
        else {
            number = await pullRequestOfHead(api, repo, target.head, target.sha);
            if (number === undefined) {
                return skipped(`no open pull request of ${repo.owner}/${repo.repo} has the head ${target.head}`);
            }
        }
        pr = { ...repo, number };
        o.log?.debug(`Run comment on ${where(pr, repo)} (${target.kind === 'number' ? target.via : 'found by its head'}).`);
        const own = ((await api.tokenLogin()) ?? o.botLogin ?? GITHUB_ACTIONS_LOGIN).toLowerCase();
        const body = commentBody(o.marker, (0,sanitize/* sanitize */.a)(o.body));
        const existing = await api.findComment(pr, c => c.author?.toLowerCase() === own && carriesMarker(c.body, o.marker));
        const comment = existing
            ? await api.updateComment(repo, existing.id, body)
            : await api.createComment(pr, body);
        return {
            outcome: existing ? 'updated' : 'created',
            url: comment.url,
            commentId: comment.id,
            pullRequest: pr
        };
    }
    catch (error) {
        if (error?.name === 'AbortError')
            throw error;
        if (error instanceof GitHubApiError && error.status === 403 && !error.rateLimited) {
            return readOnly(error, pr, repo);
        }
        throw failure(error, pr, repo);
    }
}


/***/ })

};
