export const id = 863;
export const ids = [863];
export const modules = {

/***/ 9863:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   githubRunner: () => (/* binding */ githubRunner)
/* harmony export */ });
/* harmony import */ var _actions_core__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6421);
/* harmony import */ var _escape_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(2988);
/* harmony import */ var _github_id_token_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(977);



function githubRunner() {
    return {
        getInput: name => _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .getInput */ .V4(name),
        setOutput: (name, value) => _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .setOutput */ .uH(name, value),
        info: message => _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .info */ .pq((0,_escape_js__WEBPACK_IMPORTED_MODULE_1__/* .plainText */ .wh)(message)),
        warning: message => _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .warning */ .$e((0,_escape_js__WEBPACK_IMPORTED_MODULE_1__/* .plainText */ .wh)(message)),
        error: message => _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .error */ .z3((0,_escape_js__WEBPACK_IMPORTED_MODULE_1__/* .plainText */ .wh)(message)),
        debug: message => _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .debug */ .Yz((0,_escape_js__WEBPACK_IMPORTED_MODULE_1__/* .plainText */ .wh)(message)),
        group: (name, fn) => _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .group */ .Os((0,_escape_js__WEBPACK_IMPORTED_MODULE_1__/* .plainText */ .wh)(name), fn),
        setSecret: value => _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .setSecret */ .Pq(value),
        getIdToken: audience => (0,_github_id_token_js__WEBPACK_IMPORTED_MODULE_2__/* .idTokenWithRetries */ .By)(audience, m => _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .debug */ .Yz(m)),
        summary: async (markdown) => {
            if (!process.env.GITHUB_STEP_SUMMARY)
                return;
            await _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .summary */ .z.addRaw(markdown, true).write();
        },
        setFailed: message => _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .setFailed */ .C1((0,_escape_js__WEBPACK_IMPORTED_MODULE_1__/* .plainText */ .wh)(message)),
        resourceTags,
        commentOnPullRequest: async (comment) => {
            if (!comment.token) {
                return {
                    outcome: 'skipped',
                    reason: 'no github-token was given, so no pull-request comment was written'
                };
            }
            _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .setSecret */ .Pq(comment.token);
            // Loaded only here: Octokit is large, and most runs write no comment.
            const [{ context }, { publishRunComment }] = await Promise.all([
                __webpack_require__.e(/* import() */ 413).then(__webpack_require__.bind(__webpack_require__, 2413)),
                Promise.all(/* import() */[__webpack_require__.e(413), __webpack_require__.e(387)]).then(__webpack_require__.bind(__webpack_require__, 9387))
            ]);
            return publishRunComment({
                token: comment.token,
                context,
                body: comment.markdown,
                marker: { account: comment.account, environment: comment.environment },
                log: { info: m => _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .info */ .pq((0,_escape_js__WEBPACK_IMPORTED_MODULE_1__/* .plainText */ .wh)(m)), debug: m => _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .debug */ .Yz((0,_escape_js__WEBPACK_IMPORTED_MODULE_1__/* .plainText */ .wh)(m)) }
            });
        }
    };
}
/** The run that created a resource, from the variables the runner sets (as `github.context` reads them). */
function resourceTags(env = process.env) {
    const tags = { 'created-by': 'cosmos-cmk-hsm-action' };
    const repository = env.GITHUB_REPOSITORY;
    if (!repository)
        return tags;
    tags['github-repository'] = repository;
    const runId = env.GITHUB_RUN_ID;
    if (runId && /^\d+$/.test(runId)) {
        const server = env.GITHUB_SERVER_URL || 'https://github.com';
        tags['github-run-url'] = `${server}/${repository}/actions/runs/${runId}`;
    }
    return tags;
}


/***/ })

};
