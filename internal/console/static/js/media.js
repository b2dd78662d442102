// Results: an asset as a person sees it, an image or a playable video with
// a download link. Assets need the token, so their bytes are fetched and
// shown from object URLs.

import { assetBlobURL } from './api.js';
import { h, bytes } from './dom.js';

const ext = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'video/mp4': 'mp4', 'video/quicktime': 'mov' };

// assetFigure returns a figure for asset that fills in once its bytes
// have arrived.
export function assetFigure(asset) {
  const isVideo = asset.kind === 'video';
  const media = isVideo
    ? h('video', { class: 'result-video', controls: true, playsinline: true, preload: 'auto', muted: true })
    : h('img', { class: 'result-image', alt: `Result ${asset.stage || asset.kind}` });
  const link = h('a', { class: 'download', download: `${asset.id}.${ext[asset.mime] || 'bin'}` }, 'Download');
  const size = [asset.width && asset.height ? `${asset.width}×${asset.height}` : '',
    asset.duration_s ? `${asset.duration_s.toFixed(1)} s` : '', bytes(asset.bytes)].filter(Boolean).join(' · ');
  const fig = h('figure', { class: 'asset', dataset: { assetId: asset.id, kind: asset.kind } }, media,
    h('figcaption', {}, h('span', { class: 'badge' }, asset.kind), size, link));
  if (!asset.stored) {
    // Only the provider's URL is kept: the page may not load other origins.
    link.href = asset.url;
    link.removeAttribute('download');
    link.textContent = 'Open at provider';
    link.rel = 'noreferrer';
    media.replaceWith(h('p', { class: 'hint' }, 'This result could not be stored; the provider still has it.'));
    return fig;
  }
  assetBlobURL(asset).then((url) => {
    media.src = url;
    link.href = url;
  }, (err) => {
    media.replaceWith(h('p', { class: 'error' }, `Could not load: ${err.message}`));
  });
  return fig;
}

// assetImage is a plain image of an asset (portraits, angles).
export function assetImage(asset, alt) {
  const img = h('img', { alt });
  if (asset?.stored) assetBlobURL(asset).then((url) => { img.src = url; }, () => {});
  return img;
}
