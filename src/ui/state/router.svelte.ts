/** The route, from the location hash (`#/title/<id>`, `#/search/<query>`, …), and the links that make one. */

type Route = { page: 'browse' } | { page: 'for-you' } | { page: 'history' } | { page: 'style-map' } | { page: 'settings' } | { page: 'title'; id: string } | { page: 'search'; query: string };

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
  const [, page, id] = hash.replace(/^#/, '').split('/');
  if (page === 'title' && id) return { page: 'title', id: decodeURIComponent(id) };
  if (page === 'for-you' || page === 'history' || page === 'style-map' || page === 'settings') return { page };
  return { page: 'browse' };
}

export const href = {
  title: (id: string) => `#/title/${encodeURIComponent(id)}`,
  browse: '#/',
  forYou: '#/for-you',
  history: '#/history',
  styleMap: '#/style-map',
  settings: '#/settings',
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
