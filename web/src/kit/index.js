// What a device maker imports to build a page:
//   import { Page, Card, Stat, Toggle, LiveChart, useSet } from '../kit';
export { Page, Card, Stat, Button, Toggle, Field, ErrorText, inputClass } from './ui.jsx';
export { LiveChart } from './LiveChart.jsx';
export { SchemaForm } from './SchemaForm.jsx';
export { useSet, useSchema, useSchemas, useHistory, useSetTime, useAuth, useConnection, useNow, canWrite } from './hooks.js';
export { icons } from './icons.js';
export { writeSet } from '../live.js';
export { get, post, del, ApiError } from '../api.js';
export { formatUptime, formatBytes } from '../format.js';
