/**
 * Service worker registration and updates, from the page side. A new version is announced (onUpdate)
 * and applied only when the reader asks (applyUpdate → the waiting worker takes over → reload), never
 * in the middle of a session.
 */
export interface PwaHandle {
  applyUpdate(): void;
}

export function registerServiceWorker(onUpdate: () => void): PwaHandle | null {
  if (!('serviceWorker' in navigator) || !import.meta.env.PROD) return null;
  let registration: ServiceWorkerRegistration | undefined;
  const watch = (reg: ServiceWorkerRegistration) => {
    registration = reg;
    // Only a worker installed while another controls the page is an update; the first install is not.
    if (reg.waiting && navigator.serviceWorker.controller) onUpdate();
    reg.addEventListener('updatefound', () => {
      const next = reg.installing;
      next?.addEventListener('statechange', () => {
        if (next.state === 'installed' && navigator.serviceWorker.controller) onUpdate();
      });
    });
  };
  // A browser that blocks service workers may resolve without a registration.
  navigator.serviceWorker.register(new URL('sw.js', document.baseURI), { scope: './' }).then(
    (reg) => (reg ? watch(reg) : console.warn('service worker not registered: blocked by the browser')),
    (e) => console.warn('service worker not registered:', e),
  );
  return {
    applyUpdate() {
      const waiting = registration?.waiting;
      if (!waiting) return location.reload();
      navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true });
      waiting.postMessage('SKIP_WAITING');
    },
  };
}
