/** The route, from the location hash (`#/title/<id>`, `#/search/<query>`, …), and the links that make one. */

/** Browse, filtered: by genre (`#/?genre=…`) and by text in title or author (`#/?q=…`). */
type Route = { page: 'browse'; genre?: string; query?: string } | { page: 'for-you' } | { page: 'history' } | { page: 'style-map' } | { page: 'settings' } | { page: 'catalog' } | { page: 'title'; id: string } | { page: 'search'; query: string };

function parseRoute(hash: string): Route {
  // A query may itself contain '/', so everything after the prefix is the query.
  const search = /^#?\/search\/(.*)$/.exec(hash);
  if (search) {
    try {
      return { page: 'search', query: decodeURIComponent(search[1]) };
    } catch {
      return { page: 'search', query: search[1] };
    }
  }
  const browse = /^#?\/?\?(.*)$/.exec(hash);
  if (browse) {
    const params = new URLSearchParams(browse[1]);
    return { page: 'browse', ...(params.get('genre') ? { genre: params.get('genre')! } : {}), ...(params.get('q') ? { query: params.get('q')! } : {}) };
  }
  const [, page, id] = hash.replace(/^#/, '').split('/');
  if (page === 'title' && id) return { page: 'title', id: decodeURIComponent(id) };
  if (page === 'for-you' || page === 'history' || page === 'style-map' || page === 'settings' || page === 'catalog') return { page };
  return { page: 'browse' };
}

export const href = {
  title: (id: string) => `#/title/${encodeURIComponent(id)}`,
  browse: '#/',
  /** Browse filtered to one genre, or to titles whose title or author has `query`. */
  browseBy: (filter: { genre?: string; query?: string }) => `#/?${new URLSearchParams({ ...(filter.genre ? { genre: filter.genre } : {}), ...(filter.query ? { q: filter.query } : {}) })}`,
  forYou: '#/for-you',
  history: '#/history',
  styleMap: '#/style-map',
  settings: '#/settings',
  /** Every title of the snapshot, and what its last update changed. */
  catalog: '#/catalog',
  search: (query: string) => `#/search/${encodeURIComponent(query)}`,
};

export class Router {
  route = $state.raw<Route>(parseRoute(location.hash));

  constructor() {
    addEventListener('hashchange', () => {
      this.route = parseRoute(location.hash);
      scrollTo(0, 0);
    });
  }
}
