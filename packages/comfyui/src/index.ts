export { ComfyUIError, isComfyUIError, type ComfyUIErrorCode } from './comfyui-error.js';
