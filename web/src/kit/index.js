// What a device maker imports to build a page (each is in web/README.md):
//   import { Page, Card, Toggle, Slider, LiveChart, useSet } from '../kit';
export { Page, Card, Stat, Button, Field, ErrorText, inputClass } from './ui.jsx';
export { Toggle, Slider, NumberInput, Select, TextInput, Value, ConfirmButton } from './controls.jsx';
export { LiveChart } from './LiveChart.jsx';
export { SchemaForm } from './SchemaForm.jsx';
export { useSet, useSchema, useSchemas, useHistory, useSetTime, useAuth, useConnection, useNow, useField } from './hooks.js';
export { canWrite, fieldWritable, levelAtLeast, formatValue } from './fields.js';
export { icons } from './icons.js';
export { writeSet } from '../live.js';
export { get, post, del, ApiError } from '../api.js';
export { formatUptime, formatBytes } from '../format.js';
