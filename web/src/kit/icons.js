// Icon outlines (24x24, drawn with a stroke) for pages.register's `icon`;
// any other SVG path string works as well.
export const icons = {
  home: 'M3 12l2-2 7-7 7 7 2 2M5 10v10h5v-6h4v6h5V10',
  sliders: 'M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0M14 4v4M8 10v4M16 16v4',
  download: 'M12 3v12m0 0l-4-4m4 4l4-4M4 17v2a2 2 0 002 2h12a2 2 0 002-2v-2',
  users: 'M16 19v-1a4 4 0 00-4-4H6a4 4 0 00-4 4v1M9 10a3 3 0 100-6 3 3 0 000 6zM22 19v-1a4 4 0 00-3-3.9M16 4.1a3 3 0 010 5.8',
  chart: 'M3 3v18h18M7 15l4-4 3 3 5-6',
  list: 'M8 6h13M8 12h13M8 18h13M3 6h0M3 12h0M3 18h0',
  bolt: 'M13 2L4 14h7l-1 8 9-12h-7l1-8z',
  info: 'M12 22a10 10 0 100-20 10 10 0 000 20zM12 16v-4M12 8h0',
  thermometer: 'M14 14.8V4a2 2 0 10-4 0v10.8a4 4 0 104 0z',
};
