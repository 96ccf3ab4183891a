/**
 * GitHub REST fake under `/github-api` (point `GITHUB_API_URL` at `${baseUrl}/github-api`):
 * issue comments (list with `per_page`/`page` and a `Link` header, create, get, update) and
 * `GET /repos/{o}/{r}/commits/{sha}/pulls` (the PR list configured with `setPulls`). In memory.
 *
 * Who a token is, as GitHub tells it: `ghp_<login>` (also `gho_`, `ghu_`, `github_pat_`) is the user
 * `<login>`; `ghs_…` is an installation token of the GitHub Actions app (the runner's
 * GITHUB_TOKEN), so `github-actions[bot]`. A comment belongs to the token that wrote it (`user`),
 * and only its author may edit or delete it. `GET /user` names a user and answers 403 "Resource
 * not accessible by integration" to an installation token, as GitHub does; GraphQL
 * `{ viewer { login } }` (`POST /github-api/graphql`) names either. Another token is 401 "Bad
 * credentials". Writes need a token; a token containing `readonly` is refused with GitHub's 403.
 */
import type { EmulatorRequest, EmulatorResponse, EmulatorState, RouteHandler } from './types.js';

/** The account a token acts as. */
export interface GitHubUser {
  login: string;
  id: number;
  type: 'User' | 'Bot';
}

/** The GitHub Actions app's bot, as GitHub shows it on comments written with GITHUB_TOKEN. */
export const ACTIONS_BOT: GitHubUser = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' };

export interface GitHubComment {
  id: number;
  author: GitHubUser;
  owner: string;
  repo: string;
  issueNumber: number;
  body: string;
  createdAt: string;
  updatedAt: string;
}

export interface GitHubFake {
  routes: RouteHandler;
  comments(): GitHubComment[];
  /** PRs returned by `GET /repos/{o}/{r}/commits/{sha}/pulls`; sha `*` = any commit. */
  setPulls(sha: string, pulls: unknown[]): void;
}

const MAX_BODY = 65536;
const DOCS = 'https://docs.github.com/rest';

/** Stable small ids for users, so a login always has the same id. */
function userId(login: string): number {
  let h = 0;
  for (const c of login.toLowerCase()) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return 1_000_000 + (h % 9_000_000);
}

/** The account behind an `Authorization` header; undefined without one, `bad` for an unknown token. */
export function tokenUser(authorization: string | undefined): GitHubUser | 'bad' | undefined {
  const m = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return undefined;
  const token = m[1]!;
  if (/^ghs_/.test(token)) return ACTIONS_BOT;
  const user = /^(?:ghp|gho|ghu|github_pat)_([A-Za-z0-9][A-Za-z0-9-]*)$/.exec(token);
  return user ? { login: user[1]!, id: userId(user[1]!), type: 'User' } : 'bad';
}

const ghError = (status: number, message: string, extra: Record<string, unknown> = {}): EmulatorResponse => ({
  status,
  body: { message, documentation_url: DOCS, status: String(status), ...extra },
});

export function createGitHubFake(): GitHubFake {
  const comments: GitHubComment[] = [];
  const pulls = new Map<string, unknown[]>();
  let nextId = 1_000_001;

  const toJson = (req: EmulatorRequest, c: GitHubComment) => {
    const api = `${req.baseUrl}/github-api/repos/${c.owner}/${c.repo}`;
    return {
      id: c.id,
      node_id: `IC_emulated${c.id}`,
      url: `${api}/issues/comments/${c.id}`,
      html_url: `https://github.com/${c.owner}/${c.repo}/pull/${c.issueNumber}#issuecomment-${c.id}`,
      issue_url: `${api}/issues/${c.issueNumber}`,
      body: c.body,
      user: { ...c.author },
      author_association: 'NONE',
      created_at: c.createdAt,
      updated_at: c.updatedAt,
    };
  };

  const readBody = (req: EmulatorRequest): { body?: string; error?: EmulatorResponse } => {
    let parsed: any;
    try {
      parsed = JSON.parse(req.body || '{}');
    } catch {
      return { error: ghError(400, 'Problems parsing JSON') };
    }
    if (typeof parsed?.body !== 'string') {
      return { error: ghError(422, 'Invalid request.\n\n"body" wasn\'t supplied.') };
    }
    if (parsed.body.length > MAX_BODY) {
      return {
        error: ghError(422, 'Validation Failed', {
          errors: [{ resource: 'IssueComment', code: 'custom', field: 'body', message: `body is too long (maximum is ${MAX_BODY} characters)` }],
        }),
      };
    }
    return { body: parsed.body };
  };

  const routes: RouteHandler = (req: EmulatorRequest, _state: EmulatorState) => {
    const m0 = /^\/github-api(\/.*)?$/i.exec(req.path.replace(/\/+$/, ''));
    if (!m0) return undefined;
    const path = m0[1] ?? '/';
    const user = tokenUser(req.headers['authorization']);
    if (user === 'bad') return ghError(401, 'Bad credentials');
    if (path === '/graphql' && req.method === 'POST') return graphql(req, user);
    if (path === '/user' && req.method === 'GET') {
      if (!user) return ghError(401, 'Requires authentication');
      if (user.type === 'Bot') return ghError(403, 'Resource not accessible by integration');
      return { status: 200, body: { login: user.login, id: user.id, type: user.type, site_admin: false } };
    }
    const write = req.method !== 'GET' && req.method !== 'HEAD';
    if (write && !user) return ghError(401, 'Requires authentication');
    // A token with only read access (a fork's pull request, `permissions: read-all`): spelled `…readonly…` here.
    if (write && /readonly/i.test(req.headers['authorization'] ?? '')) return ghError(403, 'Resource not accessible by integration');

    let m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/i.exec(path);
    if (m) {
      const [, owner, repo, num] = m;
      const issueNumber = Number(num);
      const mine = comments.filter((c) => c.owner.toLowerCase() === owner.toLowerCase() && c.repo.toLowerCase() === repo.toLowerCase() && c.issueNumber === issueNumber);
      if (req.method === 'GET') {
        const perPage = Math.min(100, Math.max(1, Number(req.query['per_page'] ?? 30) || 30));
        const page = Math.max(1, Number(req.query['page'] ?? 1) || 1);
        const slice = mine.slice((page - 1) * perPage, page * perPage);
        const last = Math.max(1, Math.ceil(mine.length / perPage));
        const url = (p: number) => `${req.baseUrl}/github-api/repos/${owner}/${repo}/issues/${issueNumber}/comments?per_page=${perPage}&page=${p}`;
        const links: string[] = [];
        if (page > 1) links.push(`<${url(page - 1)}>; rel="prev"`, `<${url(1)}>; rel="first"`);
        if (page < last) links.push(`<${url(page + 1)}>; rel="next"`, `<${url(last)}>; rel="last"`);
        return { status: 200, headers: links.length ? { Link: links.join(', ') } : {}, body: slice.map((c) => toJson(req, c)) };
      }
      if (req.method === 'POST') {
        const { body, error } = readBody(req);
        if (error) return error;
        const now = new Date().toISOString();
        const c: GitHubComment = { id: nextId++, author: user!, owner, repo, issueNumber, body: body!, createdAt: now, updatedAt: now };
        comments.push(c);
        return { status: 201, headers: { Location: toJson(req, c).url }, body: toJson(req, c) };
      }
      return ghError(404, 'Not Found');
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/i.exec(path);
    if (m) {
      const [, owner, repo, id] = m;
      const c = comments.find((x) => x.id === Number(id) && x.owner.toLowerCase() === owner.toLowerCase() && x.repo.toLowerCase() === repo.toLowerCase());
      if (!c) return ghError(404, 'Not Found');
      if (req.method === 'GET') return { status: 200, body: toJson(req, c) };
      // Only its author edits a comment here (a repository admin could too on GitHub; no test token is one).
      if ((req.method === 'PATCH' || req.method === 'DELETE') && user!.login.toLowerCase() !== c.author.login.toLowerCase()) {
        return ghError(403, user!.type === 'Bot' ? 'Resource not accessible by integration' : 'Must have admin rights to Repository.');
      }
      if (req.method === 'PATCH') {
        const { body, error } = readBody(req);
        if (error) return error;
        c.body = body!;
        c.updatedAt = new Date().toISOString();
        return { status: 200, body: toJson(req, c) };
      }
      if (req.method === 'DELETE') {
        comments.splice(comments.indexOf(c), 1);
        return { status: 204 };
      }
      return ghError(404, 'Not Found');
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/pulls$/i.exec(path);
    if (m && req.method === 'GET') {
      return { status: 200, body: pulls.get(m[3].toLowerCase()) ?? pulls.get('*') ?? [] };
    }
    return ghError(404, 'Not Found');
  };

  /** GraphQL answers only the one query the action asks: who the token is. */
  function graphql(req: EmulatorRequest, user: GitHubUser | undefined): EmulatorResponse {
    if (!user)
      return {
        status: 401,
        body: { message: 'This endpoint requires you to be authenticated.', documentation_url: 'https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql' },
      };
    let query: unknown;
    try {
      query = JSON.parse(req.body || '{}')?.query;
    } catch {
      return ghError(400, 'Problems parsing JSON');
    }
    if (typeof query !== 'string') return { status: 200, body: { errors: [{ message: 'A query attribute must be specified and must be a string.' }] } };
    if (/^\s*(query\s*(\w+\s*)?)?\{\s*viewer\s*\{\s*login\s*\}\s*\}\s*$/.test(query)) return { status: 200, body: { data: { viewer: { login: user.login } } } };
    return { status: 200, body: { errors: [{ type: 'UNSUPPORTED', message: 'the emulator answers only `{ viewer { login } }`' }] } };
  }

  return {
    routes,
    comments: () => comments.map((c) => ({ ...c, author: { ...c.author } })),
    setPulls: (sha, list) => {
      pulls.set(sha.toLowerCase(), list);
    },
  };
}
