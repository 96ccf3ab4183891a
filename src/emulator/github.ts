/**
 * GitHub REST fake under `/github-api` (point `GITHUB_API_URL` at `${baseUrl}/github-api`):
 * issue comments (list with `per_page`/`page` and a `Link` header, create, get, update) and
 * `GET /repos/{o}/{r}/commits/{sha}/pulls` (the PR list configured with `setPulls`). In memory.
 * Writes need a token; a token containing `readonly` is refused with GitHub's 403.
 */
import type { EmulatorRequest, EmulatorResponse, EmulatorState, RouteHandler } from './types.js';

export interface GitHubComment {
  id: number;
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
      user: { login: 'github-actions[bot]', id: 41898282, type: 'Bot' },
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

  const needsAuth = (req: EmulatorRequest) => !/^(token|bearer)\s+\S+/i.test(req.headers['authorization'] ?? '');

  const routes: RouteHandler = (req: EmulatorRequest, _state: EmulatorState) => {
    const m0 = /^\/github-api(\/.*)?$/i.exec(req.path.replace(/\/+$/, ''));
    if (!m0) return undefined;
    const path = m0[1] ?? '/';
    const write = req.method !== 'GET' && req.method !== 'HEAD';
    if (write && needsAuth(req)) return ghError(401, 'Requires authentication');
    // A token with only read access (a fork's pull request, `permissions: read-all`): spelled `…readonly…` here.
    if (write && /readonly/i.test(req.headers['authorization'] ?? '')) return ghError(403, 'Resource not accessible by integration');

    let m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/i.exec(path);
    if (m) {
      const [, owner, repo, num] = m;
      const issueNumber = Number(num);
      const mine = comments.filter(
        (c) => c.owner.toLowerCase() === owner.toLowerCase() && c.repo.toLowerCase() === repo.toLowerCase() && c.issueNumber === issueNumber,
      );
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
        const c: GitHubComment = { id: nextId++, owner, repo, issueNumber, body: body!, createdAt: now, updatedAt: now };
        comments.push(c);
        return { status: 201, headers: { Location: toJson(req, c).url }, body: toJson(req, c) };
      }
      return ghError(404, 'Not Found');
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/i.exec(path);
    if (m) {
      const [, owner, repo, id] = m;
      const c = comments.find(
        (x) => x.id === Number(id) && x.owner.toLowerCase() === owner.toLowerCase() && x.repo.toLowerCase() === repo.toLowerCase(),
      );
      if (!c) return ghError(404, 'Not Found');
      if (req.method === 'GET') return { status: 200, body: toJson(req, c) };
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

  return {
    routes,
    comments: () => comments.map((c) => ({ ...c })),
    setPulls: (sha, list) => {
      pulls.set(sha.toLowerCase(), list);
    },
  };
}
