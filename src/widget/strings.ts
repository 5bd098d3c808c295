import { josa } from '../core/i18n/josa.ts';

/** The widget's own few labels, in the languages the `lang` attribute selects. */
export const WIDGET_STRINGS = {
  en: {
    personal: 'Recommended for you',
    popular: 'Popular titles',
    loading: 'Loading recommendations…',
    error: 'Recommendations are unavailable right now.',
    details: 'Details',
    because: (t: string) => `Because of “${t}”`,
    surprise: 'A surprise, unlike what you usually read',
  },
  ko: {
    personal: '당신을 위한 추천',
    popular: '인기 작품',
    loading: '추천을 불러오는 중…',
    error: '지금은 추천을 불러올 수 없습니다.',
    details: '자세히',
    because: (t: string) => `${josa(`“${t}”`, '와/과')} 비슷해요`,
    surprise: '평소와 다른 의외의 추천',
  },
} as const;

export type WidgetLang = keyof typeof WIDGET_STRINGS;

export function widgetLang(attr: string | null): WidgetLang {
  const lang = (attr ?? globalThis.navigator?.language ?? 'en').toLowerCase();
  return lang.startsWith('ko') ? 'ko' : 'en';
}
