/** UI text in one place, so translations (issue: languages) replace a table, not templates. */
export const strings = {
  appName: 'Toonpick',
  tagline: 'Private webtoon picks, computed on your device',
  navBrowse: 'Browse',
  navForYou: 'For you',
  navHistory: 'My history',
  loadingCatalog: 'Loading catalog',
  filterPlaceholder: 'Filter by title or author',
  allGenres: 'All genres',
  noMatches: 'No titles match these filters.',
  coldStartTitle: 'Pick a few favourites',
  coldStartBody: 'Like a few titles you enjoyed and Toonpick will learn your taste. Until then, here are the most popular titles.',
  forYouIntro: 'Picked from your history. Nothing left this device.',
  moreLikeThis: 'More like this',
  read: 'Read',
  like: 'Like',
  dislike: 'Dislike',
  bookmark: 'Bookmark',
  rating: 'Your rating',
  noRating: 'none',
  back: 'Back',
  exportHistory: 'Export history',
  importHistory: 'Import history',
  clearHistory: 'Clear history',
  historyEmpty: 'No history yet. Open a title and mark it read, liked or disliked.',
  snapshotError: 'The catalog could not be loaded',
  dataSafe: 'Your reading history on this device was not changed.',
  spaceNames: { genre: 'genre', lexical: 'story keywords' } as Record<string, string>,
};

export function why(space: string, closest?: string): string {
  const s = strings.spaceNames[space] ?? space;
  return closest ? `Because of “${closest}” in your history · similar ${s}` : `Similar ${s}`;
}
