import { parsePlatformData } from '../../src/server/platform-data/platform-data.js';

const CLIENT_ID = '0b7c5a3e-2f4d-4c1a-9e8b-1a2b3c4d5e01';
const SERVICE_ID = '5d0c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c01';

/** A local platform of one client and one service, and an id neither has. */
export const PLATFORM_DATA = {
  CLIENT_ID,
  SERVICE_ID,
  UNKNOWN_ID: '9b7c5a3e-2f4d-4c1a-9e8b-1a2b3c4d5e09',
  ONE_CLIENT_ONE_SERVICE: parsePlatformData({
    clients: [{ clientId: CLIENT_ID, clientName: 'Acme' }],
    services: [{ serviceId: SERVICE_ID, serviceName: 'Support', itemKind: 'service', billingMethod: 'hourly', defaultRate: 120, unitOfMeasure: 'hour', isActive: true }],
  }),
};
